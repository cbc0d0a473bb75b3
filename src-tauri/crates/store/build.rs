// `sqlx::migrate!` embeds the migrations when the crate compiles; a migration added to the folder
// must make it compile again.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
