//! What one render may build, checked before the engine builds it: the
//! functions `template_rewrite` inserts, and checked versions of the filters
//! whose result can outgrow their input (same names, same results).
//!
//! Every value an operator or filter makes is at most
//! [`MAX_TEMPLATE_VALUE_BYTES`] long and every list at most
//! [`MAX_TEMPLATE_ITEMS`] items; all of them together, with the output of
//! capturing blocks, at most [`MAX_TEMPLATE_WORK_BYTES`] per render.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;

use minijinja::value::{Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use super::limits::{MAX_TEMPLATE_ITEMS, MAX_TEMPLATE_VALUE_BYTES, MAX_TEMPLATE_WORK_BYTES};
use super::template_rewrite::PREFIX;

thread_local! {
    /// Bytes built by the render running on this thread.
    static WORK: Cell<usize> = const { Cell::new(0) };
    /// Whether this render was stopped by a limit here.
    static REFUSED: Cell<bool> = const { Cell::new(false) };
}

/// Starts the count for a new render or evaluation on this thread.
pub fn begin() {
    WORK.with(|w| w.set(0));
    REFUSED.with(|r| r.set(false));
    LEFT.with(|l| l.borrow_mut().clear());
}

/// Adds the inserted functions and the checked filters to `env`.
pub fn install(env: &mut Environment<'static>) {
    env.add_function(format!("{PREFIX}l"), |v: Value| {
        LEFT.with(|l| l.borrow_mut().push(Left::Value(v.clone())));
        v
    });
    env.add_function(
        format!("{PREFIX}r"),
        |op: &str, right: Value, chained: i64| operator(op, right, chained != 0),
    );
    env.add_function(format!("{PREFIX}emit"), |v: Value| {
        charge(text_len(&v), "captured output")?;
        Ok::<_, Error>(v)
    });
    env.add_function(format!("{PREFIX}loop"), each_item);
    checked_filters(env);
}

/// Whether the render that just failed was stopped by one of these limits.
#[must_use]
pub fn refused() -> bool {
    REFUSED.with(Cell::get)
}

/// An error that names a limit of docs/limits.md.
fn limit_error(message: String) -> Error {
    REFUSED.with(|r| r.set(true));
    Error::new(ErrorKind::InvalidOperation, message)
}

fn too_large(what: &str) -> Error {
    limit_error(format!(
        "{what} would build a value over the limit of {} MiB (see docs/limits.md)",
        MAX_TEMPLATE_VALUE_BYTES / (1024 * 1024)
    ))
}

fn too_many(what: &str) -> Error {
    limit_error(format!(
        "{what} would build a list of more than {MAX_TEMPLATE_ITEMS} items (see docs/limits.md)"
    ))
}

/// Counts `bytes` about to be built by `what` against the limits.
fn charge(bytes: usize, what: &str) -> Result<(), Error> {
    if bytes > MAX_TEMPLATE_VALUE_BYTES {
        return Err(too_large(what));
    }
    let total = WORK.with(|w| {
        let t = w.get().saturating_add(bytes);
        w.set(t);
        t
    });
    if total > MAX_TEMPLATE_WORK_BYTES {
        return Err(limit_error(format!(
            "the template builds more than {} MiB in all (see docs/limits.md)",
            MAX_TEMPLATE_WORK_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

/// Counts characters written up to a limit, then refuses more.
struct Count(usize);

impl std::fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 = self.0.saturating_add(s.len());
        if self.0 > MAX_TEMPLATE_VALUE_BYTES {
            return Err(std::fmt::Error);
        }
        Ok(())
    }
}

/// The length of a value's text (what `~` and `{{ }}` write), counted
/// without building it; past the value limit, a number past it.
fn text_len(v: &Value) -> usize {
    if let Some(s) = v.as_str() {
        return s.len();
    }
    if v.is_undefined() {
        return 0;
    }
    let mut c = Count(0);
    let _ = write!(c, "{v}");
    c.0
}

/// What the limits need to know of an operand: its text's length, whether
/// it is a string, its items if a list or map, its value if a whole number.
#[derive(Debug, Clone, Copy)]
struct Shape {
    text: usize,
    is_str: bool,
    items: Option<usize>,
    number: Option<i128>,
}

impl Shape {
    fn of(v: &Value) -> Self {
        let items = match v.kind() {
            ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => v.len(),
            _ => None,
        };
        let number = (v.kind() == ValueKind::Number)
            .then(|| {
                i128::try_from(v.clone())
                    .ok()
                    .or_else(|| f64::try_from(v.clone()).ok().map(|f| f as i128))
            })
            .flatten();
        Shape {
            text: text_len(v),
            is_str: v.as_str().is_some(),
            items,
            number,
        }
    }

    /// A repeat count (`"x" * n`), never below zero.
    fn count(self) -> Option<usize> {
        self.number
            .map(|n| usize::try_from(n.max(0)).unwrap_or(usize::MAX))
    }

    fn built(text: usize, is_str: bool, items: Option<usize>) -> Self {
        Shape {
            text,
            is_str,
            items,
            number: None,
        }
    }
}

/// A left operand: a value (`__scenario_l`) or what an operator on its left
/// will build (a chain `a ~ b ~ c`).
enum Left {
    Value(Value),
    Built(Shape),
}

thread_local! {
    /// Left operands waiting for their right operand.
    static LEFT: RefCell<Vec<Left>> = const { RefCell::new(Vec::new()) };
}

/// The right operand of `~`, `+` or `*` (its left one is on the stack):
/// refuses a result over the limits, else passes the operand on. With
/// `chained`, the result is the left operand of another such operator: its
/// shape goes on the stack for that one.
fn operator(op: &str, right: Value, chained: bool) -> Result<Value, Error> {
    let left = match LEFT.with(|l| l.borrow_mut().pop()) {
        Some(Left::Value(v)) => Shape::of(&v),
        Some(Left::Built(s)) => s,
        None => Shape::of(&Value::UNDEFINED),
    };
    let result = shape_of_result(op, left, Shape::of(&right))?;
    if chained {
        LEFT.with(|l| l.borrow_mut().push(Left::Built(result)));
    }
    Ok(right)
}

/// The shape of `left op right`, checked against the limits before the
/// engine builds it.
fn shape_of_result(op: &str, left: Shape, right: Shape) -> Result<Shape, Error> {
    let what = format!("`{op}`");
    let joined = left.text.saturating_add(right.text);
    let items = |a: usize, b: usize| -> Result<usize, Error> {
        let n = a.saturating_add(b);
        if n > MAX_TEMPLATE_ITEMS {
            return Err(too_many(&what));
        }
        Ok(n)
    };
    let number = |n: Option<i128>| Shape {
        number: n,
        ..Shape::built(40, false, None)
    };
    Ok(match op {
        "~" => {
            charge(joined, &what)?;
            Shape::built(joined, true, None)
        }
        "+" if left.is_str && right.is_str => {
            charge(joined, &what)?;
            Shape::built(joined, true, None)
        }
        "+" => match (left.items, right.items, left.number, right.number) {
            (Some(a), Some(b), _, _) => {
                let n = items(a, b)?;
                charge(joined, &what)?;
                Shape::built(joined, false, Some(n))
            }
            (_, _, Some(a), Some(b)) => number(a.checked_add(b)),
            _ => Shape::built(joined, false, None),
        },
        "*" => {
            let (thing, n) = match (left.count(), right.count()) {
                (Some(_), Some(_)) => {
                    let product = left.number.zip(right.number);
                    return Ok(number(product.and_then(|(x, y)| x.checked_mul(y))));
                }
                (None, Some(n)) => (left, n),
                (Some(n), None) => (right, n),
                (None, None) => return Ok(Shape::built(joined, false, None)),
            };
            let text = thing.text.saturating_mul(n);
            if thing.is_str {
                charge(text, &what)?;
                Shape::built(text, true, None)
            } else if let Some(len) = thing.items {
                let n = items(len.saturating_mul(n), 0)?;
                charge(text, &what)?;
                Shape::built(text, false, Some(n))
            } else {
                Shape::built(text, false, None)
            }
        }
        _ => Shape::built(joined, false, None),
    })
}

/// A loop's items inside a capturing block: pays for the raw text the body
/// writes per item; an iterator that does not know its length is read (up to
/// the item limit) into a list first.
fn each_item(items: Value, per_item: usize) -> Result<Value, Error> {
    let (n, items) = match items.len() {
        Some(n) => (n, items),
        // Not a sequence: the engine's own loop says what is wrong.
        None if items.kind() != ValueKind::Iterable => return Ok(items),
        None => {
            let list: Vec<Value> = items.try_iter()?.take(MAX_TEMPLATE_ITEMS + 1).collect();
            if list.len() > MAX_TEMPLATE_ITEMS {
                return Err(too_many("a loop"));
            }
            (list.len(), Value::from(list))
        }
    };
    charge(n.saturating_mul(per_item), "a loop's captured text")?;
    Ok(items)
}

/// Argument `i` of a filter call, or the keyword argument `kw`.
fn arg(args: &[Value], i: usize, kw: &str) -> Option<Value> {
    let kwargs = args.last().filter(|v| v.is_kwargs());
    let positional = args.len() - usize::from(kwargs.is_some());
    if i < positional {
        return args.get(i).cloned();
    }
    kwargs
        .and_then(|k| k.get_attr(kw).ok())
        .filter(|v| !v.is_undefined())
}

fn number(v: Option<Value>) -> usize {
    v.map_or(0, |v| Shape::of(&v).count().unwrap_or(0))
}

/// An argument's text, counted before it is built: a value whose text
/// would pass the value limit is refused instead (`what` names the filter).
fn text(v: Option<Value>, what: &str) -> Result<String, Error> {
    let Some(v) = v else { return Ok(String::new()) };
    if let Some(s) = v.as_str() {
        return Ok(s.to_owned());
    }
    if text_len(&v) > MAX_TEMPLATE_VALUE_BYTES {
        return Err(too_large(what));
    }
    Ok(v.to_string())
}

/// Registers `name` as `check` followed by the engine's own filter.
fn checked(
    env: &mut Environment<'static>,
    name: &'static str,
    original: Value,
    check: fn(&[Value]) -> Result<(), Error>,
) {
    env.add_filter(name, move |state: &State, args: Rest<Value>| {
        check(&args)?;
        original.call(state, &args)
    });
}

fn checked_filters(env: &mut Environment<'static>) {
    use minijinja::filters as f;
    type Check = fn(&[Value]) -> Result<(), Error>;
    let filters: Vec<(&'static str, Value, Check)> = vec![
        // Filters whose result can outgrow their input, each with its own check.
        ("join", Value::from_function(f::join), check_join),
        ("replace", Value::from_function(f::replace), check_replace),
        ("indent", Value::from_function(f::indent), check_indent),
        ("format", Value::from_function(f::format), check_format),
        ("batch", Value::from_function(f::batch), check_batch),
        ("slice", Value::from_function(f::slice), check_slice),
        ("split", Value::from_function(f::split), check_split),
        ("lines", Value::from_function(f::lines), check_lines),
        ("list", Value::from_function(f::list), check_list),
        ("escape", Value::from_function(f::escape), check_escape),
        ("e", Value::from_function(f::escape), check_escape),
        ("pprint", Value::from_function(f::pprint), check_pprint),
        // Filters that copy their input: each copy counts against the render's work.
        ("safe", Value::from_function(f::safe), check_copy),
        ("lower", Value::from_function(f::lower), check_copy),
        ("upper", Value::from_function(f::upper), check_copy),
        ("title", Value::from_function(f::title), check_copy),
        (
            "capitalize",
            Value::from_function(f::capitalize),
            check_copy,
        ),
        ("trim", Value::from_function(f::trim), check_copy),
        ("string", Value::from_function(f::string), check_copy),
        ("reverse", Value::from_function(f::reverse), check_copy),
        ("sort", Value::from_function(f::sort), check_copy),
        ("unique", Value::from_function(f::unique), check_copy),
        ("dictsort", Value::from_function(f::dictsort), check_copy),
        ("items", Value::from_function(f::items), check_copy),
        ("groupby", Value::from_function(f::groupby), check_copy),
        // Counting a string's characters reads all of it: in a loop over a
        // large value that is work too.
        ("length", Value::from_function(f::length), check_copy),
        ("count", Value::from_function(f::length), check_copy),
    ];
    for (name, original, check) in filters {
        checked(env, name, original, check);
    }
    // `debug()` writes the whole render state into the output: nothing a
    // playbook needs, and a way to print all values at once.
    env.remove_global("debug");
}

fn check_join(args: &[Value]) -> Result<(), Error> {
    let Some(v) = args.first() else { return Ok(()) };
    let sep = text(arg(args, 1, "d"), "filter `join`")?.len();
    let mut n = 0usize;
    let mut size = 0usize;
    if let Ok(iter) = v.try_iter() {
        for item in iter {
            n += 1;
            if n > MAX_TEMPLATE_ITEMS {
                return Err(too_many("filter `join`"));
            }
            size = size.saturating_add(text_len(&item)).saturating_add(sep);
            if size > MAX_TEMPLATE_VALUE_BYTES {
                return Err(too_large("filter `join`"));
            }
        }
    }
    charge(size, "filter `join`")
}

fn check_replace(args: &[Value]) -> Result<(), Error> {
    let what = "filter `replace`";
    let s = text(args.first().cloned(), what)?;
    let from = text(arg(args, 1, "old"), what)?;
    let to = text(arg(args, 2, "new"), what)?;
    let hits = if from.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(from.as_str()).count()
    };
    let size = (s.len() - hits.saturating_mul(from.len()).min(s.len()))
        .saturating_add(hits.saturating_mul(to.len()));
    charge(size, "filter `replace`")
}

fn check_indent(args: &[Value]) -> Result<(), Error> {
    let s = text(args.first().cloned(), "filter `indent`")?;
    let width = match arg(args, 1, "width") {
        Some(w) if w.as_str().is_some() => w.as_str().map_or(0, str::len),
        w => number(w),
    };
    let lines = s.split('\n').count();
    charge(
        s.len().saturating_add(lines.saturating_mul(width)),
        "filter `indent`",
    )
}

/// The longest width or precision a `format` string may ask for.
const MAX_FORMAT_WIDTH: usize = 4096;

/// The `%` directives of a printf-style format string, and the widest
/// width or precision they ask for (`%%` is a literal percent sign).
fn format_specs(fmt: &str) -> (usize, usize) {
    let b = fmt.as_bytes();
    let (mut specs, mut widest, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if b.get(i) == Some(&b'%') {
            i += 1;
            continue;
        }
        specs += 1;
        if b.get(i) == Some(&b'(') {
            // `%(name)s`: the key is text, not a width.
            while i < b.len() && b[i] != b')' {
                i += 1;
            }
            i += 1;
        }
        while i < b.len() && b"-+ #0".contains(&b[i]) {
            i += 1;
        }
        for _ in 0..2 {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let n =
                fmt[start..i]
                    .parse::<usize>()
                    .unwrap_or(if i > start { usize::MAX } else { 0 });
            widest = widest.max(n);
            if b.get(i) == Some(&b'.') {
                i += 1;
            } else {
                break;
            }
        }
    }
    (specs, widest)
}

fn check_format(args: &[Value]) -> Result<(), Error> {
    let fmt = text(args.first().cloned(), "filter `format`")?;
    let (specs, widest) = format_specs(&fmt);
    if widest > MAX_FORMAT_WIDTH {
        return Err(limit_error(format!(
            "filter `format`: a width or precision over {MAX_FORMAT_WIDTH} (see docs/limits.md)"
        )));
    }
    let size = args[1..]
        .iter()
        .map(text_len)
        .fold(fmt.len(), usize::saturating_add)
        .saturating_add(specs.saturating_mul(MAX_FORMAT_WIDTH + 64));
    charge(size, "filter `format`")
}

/// `batch(n, fill)` pads its last batch to `n` items with `fill`; without a
/// fill it makes no more items than it is given.
fn check_batch(args: &[Value]) -> Result<(), Error> {
    let fill = arg(args, 2, "fill_with").is_some_and(|f| !f.is_none());
    if fill && number(arg(args, 1, "count")) > MAX_TEMPLATE_ITEMS {
        return Err(too_many("filter `batch`"));
    }
    Ok(())
}

/// `slice(n)` makes `n` lists, whatever it is given.
fn check_slice(args: &[Value]) -> Result<(), Error> {
    if number(arg(args, 1, "count")) > MAX_TEMPLATE_ITEMS {
        return Err(too_many("filter `slice`"));
    }
    Ok(())
}

/// A filter that makes a new value as large as its input (a copy, a case
/// change, a reordering): its input's text counts against the render's work.
fn check_copy(args: &[Value]) -> Result<(), Error> {
    let Some(v) = args.first() else { return Ok(()) };
    charge(text_len(v), "a filter that copies its input")
}

fn check_split(args: &[Value]) -> Result<(), Error> {
    let s = text(args.first().cloned(), "filter `split`")?;
    let pieces = match arg(args, 1, "split").filter(|v| !v.is_none()) {
        None => s.split_whitespace().count(),
        Some(sep) => {
            let sep = text(Some(sep), "filter `split`")?;
            if sep.is_empty() {
                s.len() + 1
            } else {
                s.matches(sep.as_str()).count() + 1
            }
        }
    };
    if pieces > MAX_TEMPLATE_ITEMS {
        return Err(too_many("filter `split`"));
    }
    check_copy(args)
}

fn check_lines(args: &[Value]) -> Result<(), Error> {
    if text(args.first().cloned(), "filter `lines`")?
        .lines()
        .count()
        > MAX_TEMPLATE_ITEMS
    {
        return Err(too_many("filter `lines`"));
    }
    check_copy(args)
}

fn check_list(args: &[Value]) -> Result<(), Error> {
    match args.first().and_then(Value::len) {
        Some(n) if n > MAX_TEMPLATE_ITEMS => Err(too_many("filter `list`")),
        _ => check_copy(args),
    }
}

fn check_escape(args: &[Value]) -> Result<(), Error> {
    let Some(v) = args.first() else { return Ok(()) };
    let s = text(Some(v.clone()), "filter `escape`")?;
    let special = s
        .bytes()
        .filter(|b| matches!(b, b'<' | b'>' | b'&' | b'"' | b'\'' | b'/'))
        .count();
    charge(s.len().saturating_add(special * 5), "filter `escape`")
}

fn check_pprint(args: &[Value]) -> Result<(), Error> {
    let Some(v) = args.first() else { return Ok(()) };
    let mut c = Count(0);
    if write!(c, "{v:#?}").is_err() {
        return Err(too_large("filter `pprint`"));
    }
    charge(c.0, "filter `pprint`")
}
