//! PATCH (RFC 7644 §3.5.2) over HTTP, including the forms Okta and Microsoft Entra ID send.
