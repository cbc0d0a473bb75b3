// A synthetic reply for the streaming benchmark: realistic markdown cut into ~4-character tokens.

const SECTION = (n: number) => `## Part ${n}: sorting things out

Here is some prose with **bold**, *italic* and \`inline code\` to make the inline lexer work. It goes on for
a while so that paragraphs wrap over several lines in the window, as real replies do.

1. First, make a vector of numbers
2. Then sort it with \`sort_unstable\`
   - nested detail about stability
   - and another one
3. Print the result

\`\`\`rust
fn main() {
    let mut values = vec![${n}, 3, 1, 2];
    values.sort_unstable();
    for value in &values {
        println!("{value}");
    }
}
\`\`\`

| algorithm | best | worst | stable |
| :-- | :-: | :-: | --: |
| merge sort | n log n | n log n | yes |
| quicksort | n log n | n² | no |
| insertion | n | n² | yes |

> A quotation to finish part ${n}, with a [link](https://example.com/${n}).

`;

/** About `tokens` tokens of markdown, each about four characters long. */
export function syntheticTokens(tokens: number): string[] {
  let text = '';
  for (let n = 1; text.length < tokens * 4; n++) text += SECTION(n);
  const out: string[] = [];
  for (let at = 0; at < text.length && out.length < tokens; at += 4) out.push(text.slice(at, at + 4));
  return out;
}
