// The repositories write `?` placeholders (the form both dialects share); PostgreSQL wants
// `$1, $2, …`. A `?` inside a string literal, a quoted identifier, a dollar-quoted body or a
// comment is text, not a placeholder, and stays as it is.

/** `sql` with each placeholder `?` numbered in order, and how many there were. */
export function numberPlaceholders(sql: string): { text: string; count: number } {
  let text = '';
  let count = 0;
  let index = 0;
  while (index < sql.length) {
    const char = sql[index];
    const next = sql[index + 1];
    let end = index + 1;
    if (char === "'" || char === '"') {
      end = closingQuote(sql, index, char);
    } else if (char === '-' && next === '-') {
      end = sql.indexOf('\n', index);
      if (end === -1) end = sql.length;
    } else if (char === '/' && next === '*') {
      end = sql.indexOf('*/', index + 2);
      end = end === -1 ? sql.length : end + 2;
    } else if (char === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(index))?.[0];
      if (tag) {
        const close = sql.indexOf(tag, index + tag.length);
        end = close === -1 ? sql.length : close + tag.length;
      }
    } else if (char === '?') {
      count += 1;
      text += `$${count}`;
      index += 1;
      continue;
    }
    text += sql.slice(index, end);
    index = end;
  }
  return { text, count };
}

/** The index just past the quote that closes the one at `start`; a doubled quote is an escape. */
function closingQuote(sql: string, start: number, quote: string): number {
  let index = start + 1;
  while (index < sql.length) {
    if (sql[index] === quote) {
      if (sql[index + 1] === quote) {
        index += 2;
        continue;
      }
      return index + 1;
    }
    index += 1;
  }
  return sql.length;
}
