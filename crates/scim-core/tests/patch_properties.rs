//! Property tests of PATCH (RFC 7644 §3.5.2). Random sequences of add/replace/remove operations
//! on a grammar of real User and Group paths (simple, complex sub-attributes, value filters,
//! URN-prefixed extension paths, no-path value objects), with values of the right type and of
//! wrong ones, each sent as its own request the way `resources::Service::patch_in` runs it.
//!
//! `PROPTEST_CASES` raises the case count (default 256, a few seconds in debug).

mod support;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;
use scim_core::limits::Limits;
use scim_core::patch::{self, MemberChange};
use scim_core::resource::Record;
use scim_core::schema::{GROUP, ResourceKind, USER};
use serde_json::{Map, Value, json};

use support::{FILTERED, FILTERS, GROUP_PATHS, Hint, KEYS, STRINGS, SUBS, USER_PATHS};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    Config::with_cases(cases)
}

fn string() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => select(STRINGS).prop_map(|s| json!(s)),
        1 => "[a-zA-Z0-9@.\\- ]{0,12}".prop_map(Value::String),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..100).prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        string(),
    ]
}

/// Any JSON, shallow, with keys from `KEYS`.
fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((select(KEYS), inner), 0..4).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// An object made of some of these (key, value) pairs.
fn object(entries: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let n = entries.len();
    entries
        .into_iter()
        .map(|(k, v)| prop::option::of(v.prop_map(move |v| (k, v))))
        .collect::<Vec<_>>()
        .prop_map(|pairs| {
            Value::Object(
                pairs
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            )
        })
        .prop_filter("not empty", move |v| {
            n == 0 || v.as_object().is_some_and(|o| !o.is_empty())
        })
        .boxed()
}

fn boolean() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => any::<bool>().prop_map(Value::Bool),
        1 => select(&["True", "False", "true"][..]).prop_map(|s| json!(s)),
    ]
    .boxed()
}

fn multi(item: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![
        3 => prop::collection::vec(item.clone(), 0..3).prop_map(Value::Array),
        1 => item,
    ]
    .boxed()
}

fn typed(hint: Hint) -> BoxedStrategy<Value> {
    let s = || string().boxed();
    let typ = |types: &'static [&'static str]| select(types).prop_map(|t| json!(t)).boxed();
    match hint {
        Hint::Str | Hint::Refused => s(),
        Hint::Bool => boolean(),
        Hint::Int => (-5i64..1000).prop_map(|n| json!(n)).boxed(),
        Hint::Decimal => prop_oneof![
            (-1000i64..1000).prop_map(|n| json!(n as f64 / 8.0)),
            any::<f64>().prop_map(|f| json!(f)),
        ]
        .boxed(),
        Hint::Date => prop_oneof![
            Just(json!("2024-02-29T12:00:00Z")),
            Just(json!("1999-12-31T23:59:59.123+01:00")),
            Just(json!("2024-01-01T00:00:00")),
            s(),
        ]
        .boxed(),
        Hint::Name => object(vec![
            ("givenName", s()),
            ("familyName", s()),
            ("formatted", s()),
        ]),
        Hint::Email => multi(object(vec![
            ("value", s()),
            ("type", typ(&["work", "home", "other", "WORK"])),
            ("primary", boolean()),
            ("display", s()),
        ])),
        Hint::Phone => multi(object(vec![
            ("value", s()),
            ("type", typ(&["work", "mobile", "fax"])),
            ("primary", boolean()),
        ])),
        Hint::Address => multi(object(vec![
            ("locality", s()),
            ("country", s()),
            ("type", typ(&["work", "home"])),
            ("primary", boolean()),
        ])),
        Hint::Manager => prop_oneof![
            s(),
            object(vec![("value", s()), ("$ref", s()), ("displayName", s())]),
        ]
        .boxed(),
        Hint::Tags => multi(s()),
        Hint::Members => multi(object(vec![
            (
                "value",
                select(&["u1", "u2", "g1", ""][..])
                    .prop_map(|v| json!(v))
                    .boxed(),
            ),
            ("type", typ(&["User", "Group", "Robot"])),
            ("display", s()),
        ])),
        Hint::Enterprise => object(vec![
            ("department", s()),
            ("employeeNumber", s()),
            ("manager", typed(Hint::Manager)),
        ]),
        Hint::AcmeUser => object(vec![
            ("badge", typed(Hint::Int)),
            ("ratio", typed(Hint::Decimal)),
            ("remote", boolean()),
            ("hired", typed(Hint::Date)),
            ("tags", typed(Hint::Tags)),
            ("serial", s()),
        ]),
        Hint::AcmeGroup => object(vec![("costCode", s()), ("level", typed(Hint::Int))]),
    }
}

fn op_name() -> impl Strategy<Value = &'static str> {
    select(&["add", "replace", "remove", "Add", "Replace", "Remove"][..])
}

/// A path from the table, with a value of its type (usually) or of any type.
fn path_and_value(table: &'static [(&'static str, Hint)]) -> BoxedStrategy<(String, Value)> {
    select(table)
        .prop_flat_map(|(path, hint)| {
            let value = prop_oneof![4 => typed(hint), 1 => any_json()];
            (Just(path.to_owned()), value)
        })
        .boxed()
}

/// `emails[type eq "work"].value` and friends, on User.
fn filtered_path() -> BoxedStrategy<(String, Value)> {
    (select(FILTERED), select(FILTERS), select(SUBS))
        .prop_flat_map(|(attr, filter, sub)| {
            let value = match sub {
                "" => typed(Hint::Email),
                ".primary" => boolean(),
                _ => string().boxed(),
            };
            let value = prop_oneof![4 => value, 1 => any_json()];
            (Just(format!("{attr}[{filter}]{sub}")), value)
        })
        .boxed()
}

/// One operation object.
fn operation(kind: ResourceKind) -> BoxedStrategy<Value> {
    let table = match kind {
        ResourceKind::User => USER_PATHS,
        ResourceKind::Group => GROUP_PATHS,
    };
    let with_path = match kind {
        ResourceKind::User => prop_oneof![2 => path_and_value(table), 1 => filtered_path()].boxed(),
        ResourceKind::Group => path_and_value(table),
    };
    // Without a path: an object of (possibly dotted or URN-qualified) keys and their values.
    let no_path = prop::collection::vec(path_and_value(table), 1..4).prop_map(|pairs| {
        let obj: Map<String, Value> = pairs.into_iter().collect();
        Value::Object(obj)
    });
    prop_oneof![
        4 => (op_name(), with_path, any::<bool>()).prop_map(|(op, (path, value), keep)| {
            // A remove usually has no value; sometimes it carries a value list (Entra).
            if op.eq_ignore_ascii_case("remove") && !keep {
                json!({"op": op, "path": path})
            } else {
                json!({"op": op, "path": path, "value": value})
            }
        }),
        1 => (op_name(), no_path).prop_map(|(op, value)| json!({"op": op, "value": value})),
    ]
    .boxed()
}

fn start(kind: ResourceKind) -> Record {
    match kind {
        ResourceKind::User => support::user(),
        ResourceKind::Group => support::group(),
    }
}

/// Sends each operation as its own request. After every request that succeeds the resource is
/// valid against its schemas (by the independent oracle) and re-reading it is consistent; after
/// a request that fails, the next one starts from the same resource.
fn sequence_keeps_the_resource_valid(
    kind: ResourceKind,
    ops: Vec<Value>,
) -> Result<(), TestCaseError> {
    let registry = support::registry();
    let mut current = start(kind);
    for op in ops {
        let before = current.clone();
        // A refused request has nothing to undo (`patch` only borrows the resource): the next
        // one starts from the same resource.
        if let Ok((next, patched)) = support::patch(kind, &current, support::body(vec![op.clone()]))
        {
            if let Err(e) = support::check(registry, kind, &next.schemas, &next.data) {
                return Err(TestCaseError::fail(format!(
                    "{op} on {:?} stored an invalid resource: {e}\n{:?}",
                    before.data, next.data
                )));
            }
            if let Err(e) = support::reread(kind, &next) {
                return Err(TestCaseError::fail(format!("{op}: {e}")));
            }
            // Group membership goes to the store as row changes, never into the body.
            prop_assert!(
                kind == ResourceKind::Group || patched.members.is_empty(),
                "{op} gave member changes on a User"
            );
            let core = match kind {
                ResourceKind::User => USER,
                ResourceKind::Group => GROUP,
            };
            prop_assert_eq!(next.schemas.first().map(String::as_str), Some(core));
            current = next;
        }
    }
    Ok(())
}

/// The operations of one request apply in turn (RFC 7644 §3.5.2: "each operation against an
/// attribute path is applied in sequence"): one request of n operations gives the body and the
/// member changes of n requests of one operation each, applied to each other's raw results
/// without validation between them, or fails when one of them fails.
fn request_is_its_operations_in_turn(
    kind: ResourceKind,
    ops: Vec<Value>,
) -> Result<(), TestCaseError> {
    let registry = support::registry();
    let original = start(kind);
    let Ok(parsed) = patch::parse(support::body(ops.clone()), &Limits::default()) else {
        return Ok(());
    };
    let at_once = patch::apply(registry, kind, &original, &parsed, &Limits::default());
    let mut current = original.clone();
    let mut members: Vec<MemberChange> = Vec::new();
    let mut in_turn = Ok(());
    for op in &parsed {
        match patch::apply(
            registry,
            kind,
            &current,
            std::slice::from_ref(op),
            &Limits::default(),
        ) {
            Ok(p) => {
                let Value::Object(mut body) = p.body else {
                    return Err(TestCaseError::fail("the body is not an object"));
                };
                let schemas = body.remove("schemas");
                current.data = body;
                current.schemas = schemas
                    .and_then(|s| serde_json::from_value(s).ok())
                    .unwrap_or_default();
                members.extend(p.members);
            }
            Err(e) => {
                in_turn = Err(e.to_string());
                break;
            }
        }
    }
    match (at_once, in_turn) {
        (Ok(p), Ok(())) => {
            let Value::Object(mut body) = p.body else {
                return Err(TestCaseError::fail("the body is not an object"));
            };
            body.remove("schemas");
            prop_assert_eq!(&body, &current.data, "{:?}", ops);
            prop_assert_eq!(&p.members, &members);
        }
        (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b),
        (a, b) => {
            return Err(TestCaseError::fail(format!(
                "at once {a:?}, in turn {b:?}, for {ops:?}"
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn user_patch_sequences_keep_the_user_valid(
        ops in prop::collection::vec(operation(ResourceKind::User), 1..12)
    ) {
        sequence_keeps_the_resource_valid(ResourceKind::User, ops)?;
    }

    #[test]
    fn group_patch_sequences_keep_the_group_valid(
        ops in prop::collection::vec(operation(ResourceKind::Group), 1..12)
    ) {
        sequence_keeps_the_resource_valid(ResourceKind::Group, ops)?;
    }

    #[test]
    fn a_user_request_is_its_operations_in_turn(
        ops in prop::collection::vec(operation(ResourceKind::User), 1..6)
    ) {
        request_is_its_operations_in_turn(ResourceKind::User, ops)?;
    }

    #[test]
    fn a_group_request_is_its_operations_in_turn(
        ops in prop::collection::vec(operation(ResourceKind::Group), 1..6)
    ) {
        request_is_its_operations_in_turn(ResourceKind::Group, ops)?;
    }
}

/// The generators reach past validation often enough to test something: a guard against a
/// grammar that drifts into refusing everything.
#[test]
fn most_generated_requests_are_accepted() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    for kind in [ResourceKind::User, ResourceKind::Group] {
        let strategy = operation(kind);
        let mut accepted = 0;
        for _ in 0..300 {
            let op = strategy.new_tree(&mut runner).unwrap().current();
            if support::patch(kind, &start(kind), support::body(vec![op])).is_ok() {
                accepted += 1;
            }
        }
        assert!(accepted > 90, "{kind:?}: only {accepted} of 300 accepted");
    }
}
