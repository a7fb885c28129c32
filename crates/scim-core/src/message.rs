//! RFC 7644 request messages (PatchOp, BulkRequest, SearchRequest): a JSON object whose
//! `schemas` names the message URN, with members read case-insensitively because clients vary.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Checks that `body` is an object declaring `urn` in `schemas`, and returns it.
pub fn envelope(body: Value, urn: &str, what: &str) -> Result<Map<String, Value>> {
    let Value::Object(body) = body else {
        return Err(Error::InvalidSyntax(format!(
            "the body must be a {what} object"
        )));
    };
    let declared = field(&body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(urn)))
        });
    if !declared {
        return Err(Error::InvalidSyntax(format!(
            "'schemas' must contain \"{urn}\""
        )));
    }
    Ok(body)
}

/// One entry of a message's `Operations`, which must be an object.
pub fn operation(item: &Value) -> Result<&Map<String, Value>> {
    item.as_object()
        .ok_or_else(|| Error::InvalidSyntax("each operation must be an object".into()))
}

/// A member of a message object, its name compared case-insensitively.
pub fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn envelopes_need_their_urn() {
        let urn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
        assert!(envelope(json!({"SCHEMAS": [urn.to_uppercase()]}), urn, "PatchOp").is_ok());
        assert!(envelope(json!({"schemas": []}), urn, "PatchOp").is_err());
        assert!(envelope(json!([urn]), urn, "PatchOp").is_err());
        let body = envelope(json!({"schemas": [urn], "operations": 1}), urn, "PatchOp").unwrap();
        assert_eq!(field(&body, "Operations"), Some(&json!(1)));
    }
}
