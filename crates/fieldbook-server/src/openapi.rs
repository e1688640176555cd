//! The OpenAPI 3.1 description of every endpoint (`GET /api/openapi.json`), written by hand
//! beside the protocol types of `fieldbook_core::sync::protocol`. A test checks it describes
//! exactly the routes of [`crate::api::ROUTES`].

use fieldbook_core::sync::protocol::{MAX_PULL_PAGE, MAX_PUSH_BATCH, PROTOCOL_HEADER, PROTOCOL_VERSION};
use serde_json::{json, Value};

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_body(name: &str) -> Value {
    json!({"content": {"application/json": {"schema": schema(name)}}})
}

fn ok(description: &str, name: &str) -> Value {
    let mut v = json_body(name);
    v["description"] = json!(description);
    v
}

/// The error answers an operation can give, by status.
fn errors(statuses: &[&str]) -> serde_json::Map<String, Value> {
    statuses
        .iter()
        .map(|s| {
            let what = match *s {
                "400" => "Invalid request (`invalid`)",
                "401" => "Unknown or missing credentials (`unauthorized`)",
                "403" => "Revoked laptop (`device_revoked`, with `wipe`) or not allowed (`forbidden`)",
                "404" => "Not found (`not_found`)",
                "409" => "Conflicts with the current state (`conflict`); for uploads, `Upload-Offset` tells the server's offset",
                "413" => "Body too large (`too_large`)",
                "426" => "Missing or unsupported Fieldbook-Protocol (`protocol_unsupported`): please update Fieldbook",
                _ => "Server failure (`internal`)",
            };
            (s.to_string(), json!({"description": what, "content": {"application/json": {"schema": schema("ErrorBody")}}}))
        })
        .collect()
}

fn responses(success: (&str, Value), error_statuses: &[&str]) -> Value {
    let mut m = errors(error_statuses);
    m.insert(success.0.to_owned(), success.1);
    m.insert("426".into(), errors(&["426"])["426"].clone());
    Value::Object(m)
}

fn sha_param() -> Value {
    json!({"name": "sha256", "in": "path", "required": true, "description": "SHA-256 of the content, 64 hex characters", "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}})
}

fn upload_headers() -> Value {
    json!({
        "Upload-Offset": {"description": "Bytes the server holds", "schema": {"type": "integer"}},
        "Upload-Length": {"description": "The attachment's size, when known", "schema": {"type": "integer"}},
        "Fieldbook-Upload-Complete": {"description": "`true` once the bytes hash to the name", "schema": {"type": "string", "enum": ["true", "false"]}}
    })
}

/// The document.
pub fn document() -> Value {
    let device = json!([{"device": []}]);
    let office = json!([{"office": []}]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Fieldbook server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Sync protocol version {PROTOCOL_VERSION} (docs/sync.md). Every request except this document carries the header \
                 `{PROTOCOL_HEADER}: {PROTOCOL_VERSION}`; bodies may be gzip-compressed both ways (Content-Encoding / Accept-Encoding)."
            ),
        },
        "components": {
            "securitySchemes": {
                "device": {"type": "http", "scheme": "bearer", "description": "The device token a laptop received at enrolment"},
                "office": {"type": "http", "scheme": "basic", "description": "An office or admin user's login and password"}
            },
            "parameters": {
                "protocol": {"name": PROTOCOL_HEADER, "in": "header", "required": true, "schema": {"type": "string", "const": PROTOCOL_VERSION.to_string()}}
            },
            "schemas": schemas(),
        },
        "paths": {
            "/api/status": {
                "get": {
                    "operationId": "status", "summary": "Server name, version, protocol version and clock",
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "responses": responses(("200", ok("The server", "Status")), &["500"]),
                }
            },
            "/api/enroll": {
                "post": {
                    "operationId": "enroll", "summary": "Exchange a one-time enrolment code for a device token, registering the laptop's Ed25519 key",
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("EnrollRequest")}}},
                    "responses": responses(("200", ok("Enrolled", "EnrollResponse")), &["400", "401", "403", "409", "500"]),
                }
            },
            "/api/sync/push": {
                "post": {
                    "operationId": "push", "summary": format!("Apply a batch of at most {MAX_PUSH_BATCH} outbox entries, in one transaction"),
                    "security": device,
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("PushRequest")}}},
                    "responses": responses(("200", ok("Applied; delete outbox entries up to acked_seq", "PushResponse")), &["400", "401", "403", "413", "500"]),
                }
            },
            "/api/sync/pull": {
                "get": {
                    "operationId": "pull", "summary": "The feed changes visible to this technician after a cursor, in seq order",
                    "security": device,
                    "parameters": [
                        {"$ref": "#/components/parameters/protocol"},
                        {"name": "cursor", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PULL_PAGE, "default": crate::pull::DEFAULT_PAGE}}
                    ],
                    "responses": responses(("200", ok("One page", "PullResponse")), &["400", "401", "403", "500"]),
                }
            },
            "/api/attachments/missing": {
                "get": {
                    "operationId": "missingAttachments", "summary": "Attachments that synced records refer to but whose bytes have not all arrived",
                    "security": office,
                    "parameters": [{"$ref": "#/components/parameters/protocol"}],
                    "responses": responses(("200", json!({
                        "description": "The missing attachments",
                        "content": {"application/json": {"schema": {"type": "array", "items": schema("MissingAttachment")}}}
                    })), &["401", "403", "500"]),
                }
            },
            "/api/attachments/{sha256}": {
                "head": {
                    "operationId": "attachmentOffset", "summary": "How many bytes of the attachment the server holds",
                    "security": device,
                    "parameters": [{"$ref": "#/components/parameters/protocol"}, sha_param()],
                    "responses": responses(("200", json!({"description": "The upload's state", "headers": upload_headers()})), &["400", "401", "403", "500"]),
                },
                "patch": {
                    "operationId": "uploadChunk", "summary": "Append the next chunk at Upload-Offset; complete when the bytes hash to the name",
                    "security": device,
                    "parameters": [
                        {"$ref": "#/components/parameters/protocol"}, sha_param(),
                        {"name": "Upload-Offset", "in": "header", "required": true, "schema": {"type": "integer", "minimum": 0}},
                        {"name": "Upload-Length", "in": "header", "required": false, "description": "The whole attachment's size, if the laptop wants it checked", "schema": {"type": "integer", "minimum": 0}}
                    ],
                    "requestBody": {"required": true, "content": {"application/offset+octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}},
                    "responses": responses(("200", json!({
                        "description": "Accepted (or already complete)", "headers": upload_headers(),
                        "content": {"application/json": {"schema": schema("UploadState")}}
                    })), &["400", "401", "403", "409", "413", "500"]),
                },
                "get": {
                    "operationId": "downloadAttachment", "summary": "The attachment's bytes",
                    "security": [{"device": []}, {"office": []}],
                    "parameters": [{"$ref": "#/components/parameters/protocol"}, sha_param()],
                    "responses": responses(("200", json!({"description": "The content", "content": {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}})), &["400", "401", "403", "404", "500"]),
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi", "summary": "This document (needs no Fieldbook-Protocol header)",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            }
        }
    })
}

fn schemas() -> Value {
    let object = json!({"type": "object", "additionalProperties": true});
    json!({
        "ErrorBody": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["kind", "message"],
                "properties": {
                    "kind": {"type": "string", "enum": ["unauthorized", "device_revoked", "protocol_unsupported", "invalid", "forbidden", "not_found", "too_large", "conflict", "internal"]},
                    "message": {"type": "string"},
                    "wipe": {"type": "boolean", "description": "With device_revoked: the office ordered this laptop's data wiped"}
                }
            }}
        },
        "Status": {
            "type": "object", "required": ["name", "version", "protocol_version", "server_time", "server_hlc"],
            "properties": {
                "name": {"type": "string"}, "version": {"type": "string"}, "protocol_version": {"type": "integer"},
                "server_time": {"type": "string", "format": "date-time"}, "server_hlc": {"type": "string"}
            }
        },
        "EnrollRequest": {
            "type": "object", "required": ["code", "device_id", "public_key"],
            "properties": {
                "code": {"type": "string", "description": "One-time code, e.g. 7K2M-QX4P-9RTA-HB3C (case and dashes ignored)"},
                "device_id": {"type": "string"}, "public_key": {"type": "string", "description": "Hex Ed25519 public key"},
                "device_name": {"type": ["string", "null"]}
            }
        },
        "EnrollResponse": {
            "type": "object", "required": ["device_token", "technician", "server_hlc"],
            "properties": {"device_token": {"type": "string"}, "technician": {"type": "string"}, "server_hlc": {"type": "string"}}
        },
        "PushEntry": {
            "type": "object", "required": ["seq", "entity", "record_id", "fields", "hlc"],
            "properties": {
                "seq": {"type": "integer", "description": "Per-device outbox sequence number"},
                "entity": {"type": "string"}, "record_id": {"type": "string"},
                "fields": object.clone(),
                "hlc": {"type": "string", "description": "WALLMS-COUNTER-NODE; the node is the device id"},
                "base": {"type": "object", "additionalProperties": {"type": ["string", "null"]}, "description": "Per field, its stamp on the laptop before this write"}
            }
        },
        "PushRequest": {"type": "object", "required": ["entries"], "properties": {"entries": {"type": "array", "maxItems": MAX_PUSH_BATCH, "items": schema("PushEntry")}}},
        "Rejection": {
            "type": "object", "required": ["seq", "entity", "record_id", "reason"],
            "properties": {"seq": {"type": "integer"}, "entity": {"type": "string"}, "record_id": {"type": "string"}, "reason": {"type": "string"}}
        },
        "PushResponse": {
            "type": "object", "required": ["acked_seq", "applied", "duplicates", "conflicts", "server_hlc"],
            "properties": {
                "acked_seq": {"type": "integer"}, "applied": {"type": "integer"}, "duplicates": {"type": "integer"}, "conflicts": {"type": "integer"},
                "rejected": {"type": "array", "items": schema("Rejection")}, "server_hlc": {"type": "string"}
            }
        },
        "FeedChange": {
            "type": "object", "required": ["seq", "entity", "record_id", "fields", "clocks"],
            "properties": {
                "seq": {"type": "integer"}, "entity": {"type": "string"}, "record_id": {"type": "string"},
                "fields": object.clone(), "clocks": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        },
        "PullResponse": {
            "type": "object", "required": ["changes", "next_cursor", "more", "server_hlc"],
            "properties": {
                "changes": {"type": "array", "items": schema("FeedChange")}, "next_cursor": {"type": "integer"},
                "more": {"type": "boolean"}, "server_hlc": {"type": "string"}
            }
        },
        "UploadState": {
            "type": "object", "required": ["sha256", "offset", "complete"],
            "properties": {
                "sha256": {"type": "string"}, "offset": {"type": "integer"}, "byte_size": {"type": ["integer", "null"]},
                "complete": {"type": "boolean"}, "media_type": {"type": ["string", "null"]}
            }
        },
        "MissingAttachment": {
            "type": "object", "required": ["sha256", "received_bytes"],
            "properties": {
                "sha256": {"type": "string"}, "media_type": {"type": ["string", "null"]}, "byte_size": {"type": ["integer", "null"]},
                "received_bytes": {"type": "integer"}, "technician": {"type": ["string", "null"]}, "original_name": {"type": ["string", "null"]}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document names exactly the routes the router mounts, with the same methods.
    #[test]
    fn every_route_is_described_and_nothing_else() {
        let doc = document();
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), crate::api::ROUTES.len());
        for (path, methods) in crate::api::ROUTES {
            let ops = paths.get(*path).unwrap_or_else(|| panic!("{path} is not in the OpenAPI document")).as_object().unwrap();
            let mut described: Vec<String> = ops.keys().map(|m| m.to_uppercase()).collect();
            let mut mounted: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
            described.sort();
            mounted.sort();
            assert_eq!(described, mounted, "{path}");
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
