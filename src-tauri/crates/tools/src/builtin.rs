//! The tools that come with the app and need no network: the date and time, a calculator that
//! answers exactly (fend's arbitrary-precision rationals: 0.1 + 0.2 is 0.3), and unit
//! conversion (fend's units).

use std::time::{Duration, Instant};

use fend_core::Interrupt;
use serde_json::{Map, Value, json};

/// A calculation taking longer than this is stopped (`10^10^10` would run for ever).
const CALCULATION_TIME: Duration = Duration::from_secs(1);
/// The longest expression the calculator takes.
const MAX_EXPRESSION_CHARS: usize = 500;

/// Why a tool did not answer: told to the model as the call's result, and shown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolError {
    /// The call's arguments are not what the tool declares.
    #[error("{0}")]
    BadArguments(String),
    /// The tool could not do what was asked.
    #[error("{0}")]
    Failed(String),
}

/// A tool built into the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// The current local date, time and time zone.
    DateTime,
    /// Arithmetic, exactly.
    Calculator,
    /// A quantity in one unit expressed in another.
    ConvertUnits,
}

impl Builtin {
    /// Every built-in tool.
    pub const ALL: [Builtin; 3] = [Builtin::DateTime, Builtin::Calculator, Builtin::ConvertUnits];

    /// The built-in tool called `name`.
    pub fn named(name: &str) -> Option<Builtin> {
        Self::ALL.into_iter().find(|tool| tool.name() == name)
    }

    /// The name the model calls it by.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::DateTime => "current_datetime",
            Builtin::Calculator => "calculator",
            Builtin::ConvertUnits => "convert_units",
        }
    }

    /// Its declaration, shaped as OpenAI's `tools` entries (what the Gemma 4 template reads).
    pub fn declaration(self) -> Value {
        let (description, properties, required): (&str, Value, &[&str]) = match self {
            Builtin::DateTime => ("The current local date, time and time zone.", json!({}), &[]),
            Builtin::Calculator => (
                "Evaluates an arithmetic expression exactly (+ - * / ^, parentheses, sqrt, sin, log, pi, e).",
                json!({"expression": {"type": "string", "description": "For example (0.1 + 0.2) * 3"}}),
                &["expression"],
            ),
            Builtin::ConvertUnits => (
                "Converts a quantity from one unit to another (length, mass, volume, temperature, speed, time, data).",
                json!({
                    "value": {"type": "number", "description": "The quantity, for example 5.5"},
                    "from_unit": {"type": "string", "description": "For example km, lb, °C, mph, GiB"},
                    "to_unit": {"type": "string", "description": "For example miles, kg, °F, km/h, MB"},
                }),
                &["value", "from_unit", "to_unit"],
            ),
        };
        json!({
            "type": "function",
            "function": {
                "name": self.name(),
                "description": description,
                "parameters": {"type": "object", "properties": properties, "required": required},
            },
        })
    }

    /// Runs the tool with the call's `arguments`; its answer is text for the model.
    pub fn run(self, arguments: &Map<String, Value>) -> Result<String, ToolError> {
        match self {
            Builtin::DateTime => Ok(current_datetime()),
            Builtin::Calculator => {
                let expression = string_argument(arguments, "expression")?;
                if expression.chars().count() > MAX_EXPRESSION_CHARS {
                    return Err(ToolError::BadArguments(format!(
                        "the expression is longer than {MAX_EXPRESSION_CHARS} characters"
                    )));
                }
                calculate(expression)
            }
            Builtin::ConvertUnits => {
                let value = arguments
                    .get("value")
                    .and_then(Value::as_f64)
                    .ok_or_else(|| ToolError::BadArguments("convert_units needs value, a number".to_owned()))?;
                let from = unit_argument(arguments, "from_unit")?;
                let to = unit_argument(arguments, "to_unit")?;
                calculate(&format!("{value} {from} to {to}"))
            }
        }
    }
}

fn current_datetime() -> String {
    let now = chrono::Local::now();
    format!("{} (ISO 8601: {})", now.format("%A %-d %B %Y, %H:%M:%S, UTC%:z"), now.to_rfc3339())
}

fn string_argument<'a>(arguments: &'a Map<String, Value>, name: &str) -> Result<&'a str, ToolError> {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::BadArguments(format!("the argument {name} (a string) is missing")))
}

/// A unit's name or symbol, and nothing that would make the conversion another calculation.
fn unit_argument<'a>(arguments: &'a Map<String, Value>, name: &str) -> Result<&'a str, ToolError> {
    let unit = string_argument(arguments, name)?.trim();
    let allowed = |c: char| c.is_alphabetic() || c.is_ascii_digit() || " °/^*.-_²³".contains(c);
    if unit.is_empty() || unit.chars().count() > 40 || !unit.chars().all(allowed) {
        return Err(ToolError::BadArguments(format!("{unit:?} is not a unit")));
    }
    Ok(unit)
}

struct Deadline(Instant);

impl Interrupt for Deadline {
    fn should_interrupt(&self) -> bool {
        Instant::now() >= self.0
    }
}

fn calculate(input: &str) -> Result<String, ToolError> {
    let mut context = fend_core::Context::new();
    let deadline = Deadline(Instant::now() + CALCULATION_TIME);
    let result = fend_core::evaluate_with_interrupt(input, &mut context, &deadline).map_err(|error| {
        if deadline.should_interrupt() {
            ToolError::Failed(format!("{input:?} takes too long to work out"))
        } else {
            ToolError::Failed(format!("cannot work out {input:?}: {error}"))
        }
    })?;
    let answer = result.get_main_result();
    if answer.is_empty() || result.output_is_empty() {
        return Err(ToolError::Failed(format!("{input:?} is not a calculation")));
    }
    Ok(answer.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tool: Builtin, arguments: Value) -> Result<String, ToolError> {
        tool.run(arguments.as_object().unwrap())
    }

    #[test]
    fn the_calculator_answers_exactly() {
        let calculate = |expression: &str| run(Builtin::Calculator, json!({ "expression": expression }));
        assert_eq!(calculate("0.1 + 0.2").unwrap(), "0.3");
        assert_eq!(calculate("(0.1 + 0.2) * 3").unwrap(), "0.9");
        assert_eq!(calculate("2^100").unwrap(), "1267650600228229401496703205376");
        assert_eq!(calculate("1/4").unwrap(), "0.25");
        assert!(calculate("1/0").unwrap_err().to_string().contains("cannot work out"));
        assert!(calculate("2 +").is_err());
        assert!(calculate("10^10^10^10").unwrap_err().to_string().contains("too long"));
        assert!(matches!(calculate(&"1+".repeat(300)), Err(ToolError::BadArguments(_))));
        assert!(matches!(run(Builtin::Calculator, json!({"expr": "1"})), Err(ToolError::BadArguments(_))));
    }

    #[test]
    fn units_convert_and_only_units_are_taken() {
        let convert = |value: f64, from: &str, to: &str| {
            run(Builtin::ConvertUnits, json!({"value": value, "from_unit": from, "to_unit": to}))
        };
        assert_eq!(convert(100.0, "°C", "°F").unwrap(), "212 °F");
        assert_eq!(convert(1.0, "km", "m").unwrap(), "1000 m");
        assert_eq!(convert(2.5, "hours", "minutes").unwrap(), "150 minutes");
        assert!(convert(1.0, "km", "kg").unwrap_err().to_string().contains("cannot work out"));
        assert!(matches!(convert(1.0, "km to m; 2+", "m"), Err(ToolError::BadArguments(_))));
        assert!(matches!(
            run(Builtin::ConvertUnits, json!({"value": "1", "from_unit": "km", "to_unit": "m"})),
            Err(ToolError::BadArguments(_))
        ));
    }

    #[test]
    fn the_time_is_now_with_its_zone() {
        let answer = run(Builtin::DateTime, json!({})).unwrap();
        let iso = answer.split("ISO 8601: ").nth(1).unwrap().trim_end_matches(')');
        let told = chrono::DateTime::parse_from_rfc3339(iso).unwrap();
        let off = (chrono::Local::now().fixed_offset() - told).num_seconds();
        assert!((0..60).contains(&off), "{answer}");
    }

    #[test]
    fn every_tool_is_declared_under_its_own_name() {
        for tool in Builtin::ALL {
            assert_eq!(Builtin::named(tool.name()), Some(tool));
            let declaration = tool.declaration();
            assert_eq!(declaration["function"]["name"], tool.name());
            let properties = declaration["function"]["parameters"]["properties"].as_object().unwrap();
            for required in declaration["function"]["parameters"]["required"].as_array().unwrap() {
                assert!(properties.contains_key(required.as_str().unwrap()), "{declaration}");
            }
        }
        assert_eq!(Builtin::named("rm"), None);
    }
}
