//! Which top-level fields of a record changed, pure: the "before → after"
//! of an audit entry holds only those.

use serde_json::{Map, Value};

/// The fields that differ between `before` and `after` (a missing record is
/// an empty object), as two objects of the old and the new values; a field
/// that appeared or went is `null` on the side without it.
pub fn changed_fields(before: Option<&Map<String, Value>>, after: Option<&Map<String, Value>>) -> (Value, Value) {
    let empty = Map::new();
    let (before, after) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    let (mut old, mut new) = (Map::new(), Map::new());
    for name in names {
        let (b, a) = (before.get(name).unwrap_or(&Value::Null), after.get(name).unwrap_or(&Value::Null));
        if b != a {
            old.insert(name.clone(), b.clone());
            new.insert(name.clone(), a.clone());
        }
    }
    (Value::Object(old), Value::Object(new))
}

/// [`changed_fields`] of two serializable values (records).
pub fn changed<T: serde::Serialize>(before: &T, after: &T) -> (Value, Value) {
    let object = |v: &T| match serde_json::to_value(v) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    changed_fields(Some(&object(before)), Some(&object(after)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn only_changed_fields_are_kept_with_both_sides() {
        let cases = [
            (json!({"a": 1, "b": 2}), json!({"a": 1, "b": 3}), json!({"b": 2}), json!({"b": 3})),
            (json!({"a": 1}), json!({"a": 1, "note": "x"}), json!({"note": null}), json!({"note": "x"})),
            (json!({"a": 1, "gone": true}), json!({"a": 1}), json!({"gone": true}), json!({"gone": null})),
            (json!({"a": [1, 2]}), json!({"a": [1, 2]}), json!({}), json!({})),
            (json!({"a": {"x": 1}}), json!({"a": {"x": 2}}), json!({"a": {"x": 1}}), json!({"a": {"x": 2}})),
        ];
        for (before, after, old, new) in cases {
            let got = changed_fields(Some(&object(before.clone())), Some(&object(after.clone())));
            assert_eq!(got, (old, new), "{before} → {after}");
        }
        assert_eq!(changed_fields(None, Some(&object(json!({"a": 1})))), (json!({"a": null}), json!({"a": 1})));
    }
}
