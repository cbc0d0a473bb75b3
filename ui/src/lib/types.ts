// The records that cross between Rust and the window. They are generated from the Rust types
// (see generated/ipc.ts for how to write them again); nothing here is written by hand.
export type * from './generated/ipc';
