//! minijinja, set up to render as transformers' jinja2 does.
//!
//! transformers renders chat templates in
//! `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, loopcontrols)` with
//! `raise_exception`, `strftime_now` and a `tojson` of its own. minijinja is not jinja2, and a
//! template sees the difference wherever a value is printed or inspected; this module closes the
//! gaps chat templates hit: values print as Python's `str()` does (`None`, `True`, `1e-05`,
//! `['a', 1]`), `trim` and `.strip()` use Python's idea of whitespace, `tojson` is transformers'
//! `json.dumps` (no HTML escaping), `dictsort` compares `str.lower()`, the `sequence`,
//! `iterable` and `number` tests answer as Python's do, and the source is read as jinja2 reads
//! it (newlines normalised, transformers' `{% generation %}` tag understood).
//!
//! Known gaps, none used by the templates we test: Python's `%` string formatting, tuples
//! (printed as lists), and map order, which follows minijinja's and serde_json's
//! `preserve_order` features rather than Python's insertion order unless both are enabled.

use std::fmt::Write as _;

use minijinja::value::{Kwargs, Rest, Value, ValueKind, from_args};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior};

use super::python;

/// Name of the one template in a compiled environment, as errors show it.
pub(super) const TEMPLATE_NAME: &str = "tokenizer.chat_template";

/// An environment holding `source` as [`TEMPLATE_NAME`], ready to render.
pub(super) fn compile(source: &str) -> Result<Environment<'static>, Error> {
    let mut env = python_like_environment();
    env.add_template_owned(TEMPLATE_NAME, jinja2_source(source))?;
    Ok(env)
}

/// Carries a `raise_exception` message through minijinja's error so it can be told apart.
#[derive(Debug)]
struct Raised(String);

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Raised {}

/// The message a template passed to `raise_exception`, if that is what ended the rendering.
pub(super) fn raised_message(err: &Error) -> Option<String> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = current {
        if let Some(raised) = err.downcast_ref::<Raised>() {
            return Some(raised.0.clone());
        }
        current = err.source();
    }
    None
}

/// The source as jinja2 reads it: every newline normalised to `\n` (jinja2's lexer does this,
/// minijinja's does not), transformers' generation tags understood.
fn jinja2_source(source: &str) -> String {
    rewrite_generation_tags(&source.replace("\r\n", "\n").replace('\r', "\n"))
}

/// transformers adds a `{% generation %}...{% endgeneration %}` tag (to mark assistant tokens);
/// outside training it only renders its body, so it becomes an always-true `if` with the same
/// whitespace control.
fn rewrite_generation_tags(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find("{%") {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let Some(end) = tag.find("%}") else {
            out.push_str(tag);
            return out;
        };
        let inner = &tag[2..end];
        let (open, body) = split_whitespace_control(inner, true);
        let (body, close) = split_whitespace_control(body, false);
        let replacement = match body.trim() {
            "generation" => Some("if true"),
            "endgeneration" => Some("endif"),
            _ => None,
        };
        match replacement {
            Some(statement) => write!(out, "{{%{open} {statement} {close}%}}").unwrap_or(()),
            None => out.push_str(&tag[..end + 2]),
        }
        rest = &tag[end + 2..];
    }
    out.push_str(rest);
    out
}

fn split_whitespace_control(inner: &str, leading: bool) -> (&str, &str) {
    let marker = |c: char| c == '-' || c == '+';
    if leading && inner.starts_with(marker) {
        (&inner[..1], &inner[1..])
    } else if !leading && inner.ends_with(marker) {
        (&inner[..inner.len() - 1], &inner[inner.len() - 1..])
    } else if leading {
        ("", inner)
    } else {
        (inner, "")
    }
}

/// A minijinja environment that behaves like transformers' jinja2 one:
/// `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, loopcontrols)` with
/// `raise_exception`, `strftime_now` and its own `tojson`.
fn python_like_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(false);
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_formatter(|out, _state, value| {
        out.write_str(&python::str_of(value)).map_err(|_| Error::from(ErrorKind::WriteFailure))
    });
    env.set_unknown_method_callback(python_method);
    env.add_function("raise_exception", raise_exception);
    env.add_function("strftime_now", strftime_now);
    env.add_filter("tojson", tojson);
    env.add_filter("trim", trim);
    env.add_filter("upper", |value: &Value| python::str_of(value).to_uppercase());
    env.add_filter("lower", |value: &Value| python::str_of(value).to_lowercase());
    env.add_filter("string", |value: &Value| python::str_of(value));
    env.add_filter("join", join);
    env.add_filter("replace", replace);
    env.add_filter("dictsort", dictsort);
    // jinja2's tests ask Python questions: a str, dict or Undefined has len() and [] (a
    // "sequence"), and a bool is a Number.
    env.add_test("sequence", |value: &Value| {
        matches!(
            value.kind(),
            ValueKind::String | ValueKind::Bytes | ValueKind::Seq | ValueKind::Map | ValueKind::Undefined
        )
    });
    env.add_test("iterable", |value: &Value| match value.kind() {
        ValueKind::Undefined | ValueKind::String | ValueKind::Bytes | ValueKind::Seq | ValueKind::Map => true,
        ValueKind::None | ValueKind::Bool | ValueKind::Number => false,
        _ => value.try_iter().is_ok(),
    });
    env.add_test("number", |value: &Value| value.is_number() || value.kind() == ValueKind::Bool);
    env
}

fn raise_exception(message: &Value) -> Result<Value, Error> {
    let message = python::str_of(message);
    Err(Error::new(ErrorKind::InvalidOperation, message.clone()).with_source(Raised(message)))
}

fn strftime_now(format: &str) -> Result<Value, Error> {
    use chrono::format::{Item, StrftimeItems};
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|item| matches!(item, Item::Error)) {
        return Err(Error::new(ErrorKind::InvalidOperation, format!("strftime_now: invalid format string {format:?}")));
    }
    let mut out = String::new();
    write!(out, "{}", chrono::Local::now().format_with_items(items.into_iter()))
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("strftime_now: cannot format {format:?}")))?;
    Ok(Value::from(out))
}

/// The `trim` filter: `str(value).strip(chars)`.
fn trim(value: &Value, chars: Option<String>) -> String {
    python::strip(&python::str_of(value), chars.as_deref()).to_owned()
}

/// The `join` filter: `d.join(str(item[attribute]) for item in value)`.
fn join(value: &Value, args: Rest<Value>) -> Result<String, Error> {
    let (separator, attribute, kwargs): (Option<String>, Option<Value>, Kwargs) = from_args(&args)?;
    let separator = kwargs.get::<Option<String>>("d")?.or(separator).unwrap_or_default();
    let attribute = kwargs.get::<Option<Value>>("attribute")?.or(attribute);
    kwargs.assert_all_used()?;
    let mut out = String::new();
    for (index, item) in value.try_iter()?.enumerate() {
        if index > 0 {
            out.push_str(&separator);
        }
        let item = match &attribute {
            Some(attribute) => lookup_attribute(&item, attribute)?,
            None => item,
        };
        out.push_str(&python::str_of(&item));
    }
    Ok(out)
}

/// The `replace` filter: `str(value).replace(old, new, count)`.
fn replace(value: &Value, old: &Value, new: &Value, count: Option<i64>) -> String {
    let (text, old, new) = (python::str_of(value), python::str_of(old), python::str_of(new));
    match count.and_then(|count| usize::try_from(count).ok()) {
        Some(count) => text.replacen(&old, &new, count),
        None => text.replace(&old, &new),
    }
}

/// jinja2's attribute getter: `a.b.0` walks keys and list indices.
fn lookup_attribute(item: &Value, attribute: &Value) -> Result<Value, Error> {
    let Some(path) = attribute.as_str() else {
        return item.get_item(attribute);
    };
    let mut current = item.clone();
    for part in path.split('.') {
        let key = match part.parse::<i64>() {
            Ok(index) => Value::from(index),
            Err(_) => Value::from(part),
        };
        current = current.get_item(&key)?;
    }
    Ok(current)
}

/// The `dictsort` filter: `sorted(value.items(), key=..., reverse=...)`, comparing `str.lower()`
/// unless `case_sensitive`.
fn dictsort(value: &Value, args: Rest<Value>) -> Result<Value, Error> {
    let (case_sensitive, by, reverse, kwargs): (Option<bool>, Option<String>, Option<bool>, Kwargs) = from_args(&args)?;
    let case_sensitive = kwargs.get::<Option<bool>>("case_sensitive")?.or(case_sensitive).unwrap_or(false);
    let by = kwargs.get::<Option<String>>("by")?.or(by).unwrap_or_else(|| "key".to_owned());
    let reverse = kwargs.get::<Option<bool>>("reverse")?.or(reverse).unwrap_or(false);
    kwargs.assert_all_used()?;
    if value.kind() != ValueKind::Map {
        return Err(Error::new(ErrorKind::InvalidOperation, "dictsort expects a mapping"));
    }
    let by_value = match by.as_str() {
        "key" => false,
        "value" => true,
        _ => {
            return Err(Error::new(ErrorKind::InvalidOperation, "You can only sort by either 'key' or 'value'"));
        }
    };
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    for key in value.try_iter()? {
        let item = value.get_item(&key)?;
        pairs.push((key, item));
    }
    let sort_key = |pair: &(Value, Value)| -> Value {
        let value = if by_value { &pair.1 } else { &pair.0 };
        match (case_sensitive, value.as_str()) {
            (false, Some(text)) => Value::from(text.to_lowercase()),
            _ => value.clone(),
        }
    };
    pairs.sort_by(|a, b| {
        let ordering = sort_key(a).cmp(&sort_key(b));
        if reverse { ordering.reverse() } else { ordering }
    });
    Ok(pairs.into_iter().map(|(key, value)| Value::from(vec![key, value])).collect())
}

/// Python string methods minijinja-contrib's pycompat gets subtly wrong for templates (it strips
/// and splits on Rust's whitespace) are answered here; the rest go to pycompat.
fn python_method(state: &State, value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    if let Some(text) = value.as_str() {
        match method {
            "strip" | "lstrip" | "rstrip" => {
                let (chars,): (Option<String>,) = from_args(args)?;
                let chars = chars.as_deref();
                let stripped = match method {
                    "strip" => python::strip(text, chars),
                    "lstrip" => python::strip_start(text, chars),
                    _ => python::strip_end(text, chars),
                };
                return Ok(Value::from(stripped));
            }
            "split" => {
                let (separator, max_split): (Option<String>, Option<i64>) = from_args(args)?;
                return python::split(text, separator.as_deref(), max_split.unwrap_or(-1));
            }
            _ => {}
        }
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

/// transformers' `tojson` filter:
/// `json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`, with
/// those parameters in that order, positional or by keyword. Unlike minijinja's own filter it
/// does not HTML-escape.
fn tojson(value: &Value, args: Rest<Value>) -> Result<Value, Error> {
    type Args = (Option<Value>, Option<Value>, Option<Value>, Option<Value>, Kwargs);
    let (ensure_ascii, indent, separators, sort_keys, kwargs): Args = from_args(&args)?;
    let ensure_ascii = kwargs.get::<Option<Value>>("ensure_ascii")?.or(ensure_ascii);
    let indent = kwargs.get::<Option<Value>>("indent")?.or(indent);
    let separators = kwargs.get::<Option<Value>>("separators")?.or(separators);
    let sort_keys = kwargs.get::<Option<Value>>("sort_keys")?.or(sort_keys);
    kwargs.assert_all_used()?;

    let indent = match indent {
        None => None,
        Some(indent) if indent.kind() == ValueKind::String => Some(indent.as_str().unwrap_or_default().to_owned()),
        Some(indent) => match i64::try_from(indent.clone()) {
            Ok(width) => Some(" ".repeat(width.max(0) as usize)),
            Err(_) => {
                return Err(Error::new(ErrorKind::InvalidOperation, "tojson: indent must be an integer or a string"));
            }
        },
    };
    let (item_separator, key_separator) = match separators {
        Some(separators) => {
            let parts: Vec<Value> = separators.try_iter()?.collect();
            match parts.as_slice() {
                [item, key] => (python::str_of(item), python::str_of(key)),
                _ => {
                    return Err(Error::new(ErrorKind::InvalidOperation, "tojson: separators must be a pair"));
                }
            }
        }
        None if indent.is_some() => (",".to_owned(), ": ".to_owned()),
        None => (", ".to_owned(), ": ".to_owned()),
    };
    let style = python::JsonStyle {
        ensure_ascii: ensure_ascii.is_some_and(|v| v.is_true()),
        sort_keys: sort_keys.is_some_and(|v| v.is_true()),
        indent,
        item_separator,
        key_separator,
    };
    Ok(Value::from(python::dumps(value, &style)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders a one-off template with `messages` holding one user message, "hi".
    fn render_str(source: &str) -> Result<String, Error> {
        let messages = vec![minijinja::context! { role => "user", content => "hi" }];
        compile(source)?.get_template(TEMPLATE_NAME)?.render(minijinja::context! { messages })
    }

    #[test]
    fn the_environment_trims_blocks_like_transformers() {
        let text =
            render_str("{% for m in messages %}\n  {% if true %}\n[{{ m.role }}]\n  {% endif %}\n{% endfor %}\n")
                .unwrap();
        assert_eq!(text, "[user]\n");
    }

    #[test]
    fn tojson_matches_python_json_dumps_for_nested_unicode_none_bool_and_floats() {
        // Expected strings are Python's json.dumps(x, ensure_ascii=False) output.
        let text = render_str(
            r#"{{ {"a": [1, 2.5, none, true, false], "b": {"c": "日本語 👍 é <tag> & \"q\" \\ \n\t\u001f"}, "d": 1e-7, "e": 1e16, "f": 3.0, "g": -0.0} | tojson }}"#,
        )
        .unwrap();
        assert_eq!(
            text,
            r#"{"a": [1, 2.5, null, true, false], "b": {"c": "日本語 👍 é <tag> & \"q\" \\ \n\t\u001f"}, "d": 1e-07, "e": 1e+16, "f": 3.0, "g": -0.0}"#
        );
        assert_eq!(
            render_str("{{ [] | tojson }}|{{ {} | tojson(indent=2) }}|{{ 'x' | tojson }}").unwrap(),
            r#"[]|{}|"x""#
        );
    }

    #[test]
    fn tojson_honours_indent_separators_sort_keys_and_ensure_ascii() {
        let value = r#"{"a": 1, "b": [1, {"c": "é😀"}]}"#;
        assert_eq!(
            render_str(&format!("{{{{ {value} | tojson(indent=2) }}}}")).unwrap(),
            "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    {\n      \"c\": \"é😀\"\n    }\n  ]\n}"
        );
        assert_eq!(
            render_str(&format!("{{{{ {value} | tojson(separators=(',', ':')) }}}}")).unwrap(),
            r#"{"a":1,"b":[1,{"c":"é😀"}]}"#
        );
        assert_eq!(
            render_str(&format!("{{{{ {value} | tojson(ensure_ascii=true) }}}}")).unwrap(),
            r#"{"a": 1, "b": [1, {"c": "\u00e9\ud83d\ude00"}]}"#
        );
        assert_eq!(
            render_str("{{ messages[0] | tojson(sort_keys=true) }}").unwrap(),
            r#"{"content": "hi", "role": "user"}"#
        );
    }

    #[test]
    fn printed_values_read_as_python_prints_them() {
        let text = render_str(
            "{{ none }}|{{ true }}|{{ 1.0 }}|{{ 1e-5 }}|{{ 1e16 }}|{{ 0.1 }}|{{ 123456789.125 }}|{{ [1, none, 'a', \"it's\", 2.5] }}|{{ {'k': false} }}|{{ undefined_name }}",
        )
        .unwrap();
        assert_eq!(text, "None|True|1.0|1e-05|1e+16|0.1|123456789.125|[1, None, 'a', \"it's\", 2.5]|{'k': False}|");
    }

    #[test]
    fn trim_and_strip_use_pythons_whitespace() {
        let text = render_str("[{{ '\u{1f} a \u{a0}' | trim }}][{{ '\u{1c}b\n'.strip() }}][{{ 'xxcxx'.strip('x') }}][{{ ' d '.lstrip() }}][{{ ' e '.rstrip() }}]")
            .unwrap();
        assert_eq!(text, "[a][b][c][d ][ e]");
    }

    #[test]
    fn python_string_methods_are_available() {
        let text = render_str(
            "{{ 'a,b,,c'.split(',') }}{{ '  x  y '.split() }}{{ 'a b c'.split(' ', 1) }}{{ '-'.join(['a', 'b']) }}\
             {{ 'abc'.startswith('ab') }}{{ {'k': 1}.get('k') }}{{ {'k': 1}.get('z') }}{% for k, v in {'k': 1}.items() %}{{ k }}={{ v }}{% endfor %}",
        )
        .unwrap();
        assert_eq!(text, "['a', 'b', '', 'c']['x', 'y']['a', 'b c']a-bTrue1Nonek=1");
    }

    #[test]
    fn tests_answer_as_jinja2_does() {
        let text = render_str(
            "{{ 'abc' is sequence }}{{ {} is sequence }}{{ none is sequence }}{{ true is number }}{{ 'x' is iterable }}{{ 1 is iterable }}",
        )
        .unwrap();
        assert_eq!(text, "TrueTrueFalseTrueTrueFalse");
    }

    #[test]
    fn dictsort_ignores_case_like_python() {
        let text = render_str("{% for k, v in {'b': 1, 'A': 2, 'a_': 3} | dictsort %}{{ k }}{% endfor %}|{% for k, v in {'b': 1, 'A': 2} | dictsort(reverse=true) %}{{ k }}{% endfor %}")
            .unwrap();
        assert_eq!(text, "Aa_b|bA");
    }

    #[test]
    fn loop_controls_and_namespaces_work() {
        let text = render_str("{% set ns = namespace(n=0) %}{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}")
            .unwrap();
        assert_eq!(text, "8");
    }

    #[test]
    fn transformers_generation_tags_render_their_body() {
        let text =
            render_str("{% for m in messages %}{%- generation -%} [{{ m.content }}] {%- endgeneration -%}{% endfor %}")
                .unwrap();
        assert_eq!(text, "[hi]");
    }

    #[test]
    fn windows_newlines_in_the_source_render_as_jinja2_renders_them() {
        assert_eq!(render_str("a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n").unwrap(), "a\nb\n");
    }

    #[test]
    fn strftime_now_formats_the_local_time() {
        let year = chrono::Local::now().format("%Y").to_string();
        assert_eq!(render_str("{{ strftime_now('%Y') }}").unwrap(), year);
        assert!(
            render_str("{{ strftime_now('%Q') }}").is_err(),
            "an invalid format must fail the rendering, not panic or print garbage"
        );
    }
}
