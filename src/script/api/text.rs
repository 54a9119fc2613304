//! Python's string habits: `sep.join(list)` as `list.join(sep)`, printf-style `%`
//! formatting (`"%s-%05d" % [a, n]`, `"%(name)s" % #{ name: x }`) and `str.format`'s `{}`.
// The plugin macro expects its prelude glob-imported and makes `pub` items.
#![allow(unreachable_pub, clippy::wildcard_imports)]

use std::fmt::Write as _;

use rhai::plugin::*;
use rhai::{Array, EvalAltResult, Map};

#[export_module]
pub(crate) mod text_api {
    use super::{Array, Map};

    /// The items of an array as text, `separator` between them (Python's `sep.join(list)`).
    ///
    /// ```rhai
    /// let hosts = ["web1", "web2"];
    /// print(hosts.join(", "));   // web1, web2
    /// ```
    #[rhai_fn(pure)]
    pub fn join(items: &mut Array, separator: &str) -> String {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(separator)
    }

    /// printf-style formatting, as Python's `"..." % (a, b)`: `%s`, `%r`, `%d`, `%i`,
    /// `%f`, `%e`, `%g`, `%x`, `%X`, `%o`, `%c`, `%%`, with flags (`-`, `0`, `+`, space),
    /// a width and a precision (`%-10s`, `%05d`, `%.2f`).
    ///
    /// ```rhai
    /// let line = "%-6s %5.1f%%" % ["web1", 99.5];   // "web1    99.5%"
    /// ```
    #[rhai_fn(name = "%", return_raw)]
    pub fn percent_positional(format: &str, args: Array) -> Result<String, Box<EvalAltResult>> {
        super::percent(format, &super::Args::Positional(&args)).map_err(Into::into)
    }

    /// printf-style formatting with names, as Python's `"%(name)s" % {"name": x}`: each
    /// `%(key)s` takes the map's `key` (the flags, width and conversions of `%` apply).
    ///
    /// ```rhai
    /// let url = "http://%(host)s:%(port)d/" % #{ host: "web1", port: 8080 };
    /// ```
    #[rhai_fn(name = "%", return_raw)]
    pub fn percent_named(format: &str, args: Map) -> Result<String, Box<EvalAltResult>> {
        super::percent(format, &super::Args::Named(&args)).map_err(Into::into)
    }

    /// printf-style formatting as a function (the same as `format % args`).
    ///
    /// ```rhai
    /// let name = sprintf("release-%s-%03d", ["v3.0.1", 7]);   // release-v3.0.1-007
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sprintf(format: &str, args: Array) -> Result<String, Box<EvalAltResult>> {
        super::percent(format, &super::Args::Positional(&args)).map_err(Into::into)
    }

    /// Python's `str.format`: `{}` takes the next argument, `{0}` one by position, `{name}`
    /// a key of a map given as the last argument; `{{` and `}}` are braces. A field may say
    /// how: `{:>8}`, `{:<8}`, `{:^8}`, `{:*^8}`, `{:08.3f}`, `{:x}` (Python's mini-language,
    /// without `,` grouping and `%`). Up to four arguments; `format_all` takes an array.
    ///
    /// ```rhai
    /// print("{} is on {}".format("web1", "v3.0.1"));
    /// print("{host}:{port}".format(#{ host: "web1", port: 22 }));
    /// print("{:>6}|{:.2f}".format("ab", 2.5051));   // "    ab|2.51"
    /// ```
    #[rhai_fn(name = "format", return_raw)]
    pub fn format1(format: &str, a: Dynamic) -> Result<String, Box<EvalAltResult>> {
        super::brace(format, &[a]).map_err(Into::into)
    }

    /// `format` with two arguments.
    ///
    /// ```rhai
    /// print("{}-{}".format("a", 1));
    /// ```
    #[rhai_fn(name = "format", return_raw)]
    pub fn format2(format: &str, a: Dynamic, b: Dynamic) -> Result<String, Box<EvalAltResult>> {
        super::brace(format, &[a, b]).map_err(Into::into)
    }

    /// `format` with three arguments.
    ///
    /// ```rhai
    /// print("{}-{}-{}".format("a", 1, true));
    /// ```
    #[rhai_fn(name = "format", return_raw)]
    pub fn format3(
        format: &str,
        a: Dynamic,
        b: Dynamic,
        c: Dynamic,
    ) -> Result<String, Box<EvalAltResult>> {
        super::brace(format, &[a, b, c]).map_err(Into::into)
    }

    /// `format` with four arguments.
    ///
    /// ```rhai
    /// print("{} {} {} {}".format(1, 2, 3, 4));
    /// ```
    #[rhai_fn(name = "format", return_raw)]
    pub fn format4(
        format: &str,
        a: Dynamic,
        b: Dynamic,
        c: Dynamic,
        d: Dynamic,
    ) -> Result<String, Box<EvalAltResult>> {
        super::brace(format, &[a, b, c, d]).map_err(Into::into)
    }

    /// `format` with the arguments in an array, for any number of them.
    ///
    /// ```rhai
    /// print(format_all("{}/{}/{}/{}/{}", ["a", "b", "c", "d", "e"]));
    /// ```
    #[rhai_fn(name = "format_all", return_raw)]
    pub fn format_array(format: &str, args: Array) -> Result<String, Box<EvalAltResult>> {
        super::brace(format, &args).map_err(Into::into)
    }
}

/// What a format takes its values from.
pub(crate) enum Args<'a> {
    Positional(&'a [Dynamic]),
    Named(&'a Map),
}

/// A value's text, as `print` shows it (strings without quotes).
fn text_of(value: &Dynamic) -> String {
    value.to_string()
}

/// How one field is laid out: Python's flags, width and precision.
#[derive(Default)]
struct Spec {
    fill: Option<char>,
    /// `<`, `>` or `^`.
    align: Option<char>,
    sign: Option<char>,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

impl Spec {
    fn pad(&self, text: String, numeric: bool) -> String {
        let length = text.chars().count();
        if length >= self.width {
            return text;
        }
        let missing = self.width - length;
        if self.zero && numeric && self.align.is_none() {
            let (sign, digits) = match text.strip_prefix(['-', '+', ' ']) {
                Some(rest) => (&text[..1], rest),
                None => ("", text.as_str()),
            };
            return format!("{sign}{}{digits}", "0".repeat(missing));
        }
        let fill = self.fill.unwrap_or(' ');
        let fills = |n: usize| fill.to_string().repeat(n);
        match self.align.unwrap_or(if numeric { '>' } else { '<' }) {
            '>' => format!("{}{text}", fills(missing)),
            '^' => format!(
                "{}{text}{}",
                fills(missing / 2),
                fills(missing - missing / 2)
            ),
            _ => format!("{text}{}", fills(missing)),
        }
    }
}

/// Formats `value` by its conversion letter; `function` names the caller for errors.
fn convert(
    value: &Dynamic,
    conversion: char,
    spec: &Spec,
    function: &str,
) -> Result<String, String> {
    #[allow(clippy::cast_precision_loss)] // Python's %f of an int is as lossy
    let float = || {
        value
            .as_float()
            .or_else(|_| value.as_int().map(|n| n as f64))
            .map_err(|_| format!("{function}: `%{conversion}` needs a number, not `{value}`"))
    };
    #[allow(clippy::cast_possible_truncation)] // Python's %d of a float truncates too
    let int = || {
        value
            .as_int()
            .or_else(|_| value.as_float().map(|f| f.trunc() as i64))
            .map_err(|_| format!("{function}: `%{conversion}` needs a number, not `{value}`"))
    };
    let signed = |text: String, negative: bool| match (negative, spec.sign) {
        (false, Some(sign @ ('+' | ' '))) => format!("{sign}{text}"),
        _ => text,
    };
    let (text, numeric) = match conversion {
        's' => {
            let text = text_of(value);
            let text = match spec.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            };
            (text, false)
        }
        'r' => (format!("{value:?}"), false),
        'd' | 'i' => {
            let n = int()?;
            (signed(n.to_string(), n < 0), true)
        }
        'f' | 'F' => {
            let f = float()?;
            (
                signed(format!("{f:.*}", spec.precision.unwrap_or(6)), f < 0.0),
                true,
            )
        }
        'e' | 'E' => {
            let f = float()?;
            let text = python_exponent(f, spec.precision.unwrap_or(6));
            let text = if conversion == 'E' {
                text.to_uppercase()
            } else {
                text
            };
            (signed(text, f < 0.0), true)
        }
        'g' | 'G' => {
            let f = float()?;
            (signed(text_of(&Dynamic::from_float(f)), f < 0.0), true)
        }
        'x' => (format!("{:x}", int()?), true),
        'X' => (format!("{:X}", int()?), true),
        'o' => (format!("{:o}", int()?), true),
        'b' => (format!("{:b}", int()?), true),
        'c' => {
            let c = match value.as_char() {
                Ok(c) => c,
                Err(_) => u32::try_from(int()?)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("{function}: `%c` needs a character"))?,
            };
            (c.to_string(), false)
        }
        other => return Err(format!("{function}: unknown conversion `{other}`")),
    };
    Ok(spec.pad(text, numeric))
}

/// `1.500000e+00`, as Python writes it (Rust writes `1.5e0`).
fn python_exponent(value: f64, precision: usize) -> String {
    let text = format!("{value:.precision$e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exponent),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => text,
    }
}

/// Python's `format % args`.
pub(crate) fn percent(format: &str, args: &Args) -> Result<String, String> {
    const FUNCTION: &str = "`%` formatting";
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let name = if chars.peek() == Some(&'(') {
            chars.next();
            let name: String = chars.by_ref().take_while(|c| *c != ')').collect();
            Some(name)
        } else {
            None
        };
        let mut spec = Spec::default();
        while let Some(flag) = chars.next_if(|c| matches!(c, '-' | '0' | '+' | ' ' | '#')) {
            match flag {
                '-' => spec.align = Some('<'),
                '0' => spec.zero = true,
                '+' | ' ' => spec.sign = Some(flag),
                _ => {}
            }
        }
        if spec.align.is_none() {
            spec.align = Some('>');
            if spec.zero {
                spec.align = None;
            }
        }
        spec.width = digits(&mut chars).unwrap_or(0);
        if chars.next_if_eq(&'.').is_some() {
            spec.precision = Some(digits(&mut chars).unwrap_or(0));
        }
        let conversion = chars
            .next()
            .ok_or_else(|| format!("{FUNCTION}: `{format}` ends in the middle of a `%`"))?;
        let value = match (&name, args) {
            (Some(name), Args::Named(map)) => map
                .get(name.as_str())
                .cloned()
                .ok_or_else(|| format!("{FUNCTION}: no key `{name}` in the map given"))?,
            (Some(name), Args::Positional(_)) => {
                return Err(format!(
                    "{FUNCTION}: `%({name})` needs a map of values, not an array"
                ));
            }
            (None, Args::Positional(list)) => {
                let value = list.get(next).cloned().ok_or_else(|| {
                    format!(
                        "{FUNCTION}: `{format}` needs more than the {} values given",
                        list.len()
                    )
                })?;
                next += 1;
                value
            }
            (None, Args::Named(map)) => Dynamic::from_map(Map::clone(map)),
        };
        out.push_str(&convert(&value, conversion, &spec, FUNCTION)?);
    }
    if let Args::Positional(list) = args
        && next < list.len()
    {
        return Err(format!(
            "{FUNCTION}: `{format}` uses {next} of the {} values given",
            list.len()
        ));
    }
    Ok(out)
}

fn digits(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<usize> {
    let mut text = String::new();
    while let Some(d) = chars.next_if(char::is_ascii_digit) {
        text.push(d);
    }
    text.parse().ok()
}

/// Python's `format.format(*args)`; a map as the last argument gives the named fields.
pub(crate) fn brace(format: &str, args: &[Dynamic]) -> Result<String, String> {
    const FUNCTION: &str = "format()";
    let named = args.last().and_then(Dynamic::read_lock::<Map>);
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.next_if_eq(&'{').is_some() => out.push('{'),
            '}' if chars.next_if_eq(&'}').is_some() => out.push('}'),
            '}' => {
                return Err(format!(
                    "{FUNCTION}: a single `}}` in `{format}`; write `}}}}`"
                ));
            }
            '{' => {
                let field: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let (key, how) = field.split_once(':').unwrap_or((&field, ""));
                let value = if key.is_empty() {
                    next += 1;
                    args.get(next - 1).cloned()
                } else if let Ok(index) = key.parse::<usize>() {
                    args.get(index).cloned()
                } else {
                    named.as_ref().and_then(|map| map.get(key).cloned())
                }
                .ok_or_else(|| format!("{FUNCTION}: no value for `{{{field}}}` in `{format}`"))?;
                let _ = write!(out, "{}", brace_field(&value, how)?);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// One `{...:how}` field: `[[fill]align][sign][0][width][.precision][type]`.
fn brace_field(value: &Dynamic, how: &str) -> Result<String, String> {
    let mut spec = Spec::default();
    let mut chars = how.chars().peekable();
    let first: Vec<char> = how.chars().take(2).collect();
    match first.as_slice() {
        [fill, align, ..] if matches!(align, '<' | '>' | '^') => {
            spec.fill = Some(*fill);
            spec.align = Some(*align);
            chars.next();
            chars.next();
        }
        [align, ..] if matches!(align, '<' | '>' | '^') => {
            spec.align = Some(*align);
            chars.next();
        }
        _ => {}
    }
    if let Some(sign) = chars.next_if(|c| matches!(c, '+' | '-' | ' ')) {
        spec.sign = Some(sign);
    }
    if chars.next_if_eq(&'0').is_some() {
        spec.zero = true;
    }
    spec.width = digits(&mut chars).unwrap_or(0);
    if chars.next_if_eq(&'.').is_some() {
        spec.precision = Some(digits(&mut chars).unwrap_or(0));
    }
    let conversion = match chars.next() {
        None => {
            if value.is_float() && spec.precision.is_some() {
                'f'
            } else if value.is_int() {
                'd'
            } else {
                's'
            }
        }
        Some(c) => c,
    };
    if let Some(rest) = chars.next() {
        return Err(format!("format(): cannot read `{how}` (at `{rest}`)"));
    }
    convert(value, conversion, &spec, "format()")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_formats_as_python_does() {
        let args = [
            Dynamic::from("web1"),
            Dynamic::from_float(99.5),
            Dynamic::from_int(7),
            Dynamic::from_int(255),
            Dynamic::from_int(-3),
        ];
        assert_eq!(
            percent("%-6s|%5.1f%%|%03d|%x|%s", &Args::Positional(&args)).unwrap(),
            "web1  | 99.5%|007|ff|-3"
        );
        let mut map = Map::new();
        map.insert("host".into(), "web1".into());
        map.insert("port".into(), Dynamic::from_int(22));
        assert_eq!(
            percent("%(host)s:%(port)d %%", &Args::Named(&map)).unwrap(),
            "web1:22 %"
        );
        assert_eq!(
            percent("%e", &Args::Positional(&[Dynamic::from_float(1.5)])).unwrap(),
            "1.500000e+00"
        );
        assert_eq!(
            percent("%(missing)s", &Args::Named(&map)).unwrap_err(),
            "`%` formatting: no key `missing` in the map given"
        );
        assert_eq!(
            percent("%s %s", &Args::Positional(&[Dynamic::from_int(1)])).unwrap_err(),
            "`%` formatting: `%s %s` needs more than the 1 values given"
        );
    }

    #[test]
    fn braces_format_as_python_does() {
        let args = [Dynamic::from("ab"), Dynamic::from_float(2.5051)];
        assert_eq!(
            brace("{:>6}|{:.2f}|{{x}}|{0:*^6}", &args).unwrap(),
            "    ab|2.51|{x}|**ab**"
        );
        let mut map = Map::new();
        map.insert("host".into(), "web1".into());
        assert_eq!(
            brace(
                "{host}-{:05d}",
                &[Dynamic::from_int(42), Dynamic::from_map(map)]
            )
            .unwrap(),
            "web1-00042"
        );
        assert_eq!(
            brace("{nope}", &[Dynamic::from_int(1)]).unwrap_err(),
            "format(): no value for `{nope}` in `{nope}`"
        );
    }
}
