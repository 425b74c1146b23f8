//! Role templates (PUM's reuse of a role definition): the top-level
//! `templates` maps names to role definitions without a name, declared once
//! and never created themselves. A role with `template: t`, or
//! `template: {name: t, schema: sales, …}`, takes every key of the
//! template it does not set itself, and the template's grants before its
//! own; each `{param}` in the template's text is replaced by the value the
//! role gives for it.

use super::parse::*;
use crate::display::quoted;
use std::collections::BTreeMap;

#[derive(Default)]
pub(super) struct Templates<'a> {
    defined: BTreeMap<String, &'a Node>,
}

/// Reads the top-level `templates` mapping.
pub(super) fn templates(node: Option<&Node>) -> Result<Templates<'_>> {
    let Some(node) = node.filter(|n| !is_null_node(n)) else {
        return Ok(Templates::default());
    };
    let Kind::Map(entries) = &node.kind else {
        return Err(error(
            node.span,
            format!(
                "expected `templates` to be a mapping of template names to role definitions, found {}",
                describe(node)
            ),
        ));
    };
    let mut defined = BTreeMap::new();
    for (key, value) in entries {
        let name = name(key, "template name")?;
        let Kind::Map(pairs) = &value.kind else {
            return Err(error(
                value.span,
                format!(
                    "expected template {} to be a role definition (a mapping), found {}",
                    quoted(&name),
                    describe(value)
                ),
            ));
        };
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, _)| matches!(scalar_text(k), Some("name" | "template")))
        {
            return Err(error(
                k.span,
                format!(
                    "a template has no `{}`: the role using it gives its name",
                    scalar_text(k).unwrap_or_default()
                ),
            ));
        }
        defined.insert(name, value);
    }
    Ok(Templates { defined })
}

/// The role `node` with its template's keys merged in; none when it uses
/// no template.
pub(super) fn merged(node: &Node, templates: &Templates) -> Result<Option<Node>> {
    let Kind::Map(pairs) = &node.kind else {
        return Ok(None);
    };
    let Some((_, use_)) = pairs
        .iter()
        .find(|(k, _)| scalar_text(k) == Some("template"))
    else {
        return Ok(None);
    };
    let (template, params) = match &use_.kind {
        Kind::Map(_) => {
            let fields = Fields::of_any(use_, "template")?;
            let name = name(fields.require("name")?, "template name")?;
            let mut params = Vec::new();
            for (key, _, value) in &fields.entries {
                if *key != "name" {
                    params.push((format!("{{{key}}}"), string(value, key)?.to_owned()));
                }
            }
            (name, params)
        }
        _ => (name(use_, "template name")?, Vec::new()),
    };
    let Some(body) = templates.defined.get(&template) else {
        return Err(error(
            use_.span,
            format!(
                "unknown template {}; define it under the top-level `templates`",
                quoted(&template)
            ),
        ));
    };
    let body = substituted(body, &params, &template)?;
    let Kind::Map(defaults) = body.kind else {
        unreachable!("templates are mappings")
    };
    let mut out: Vec<(Node, Node)> = pairs
        .iter()
        .filter(|(k, _)| scalar_text(k) != Some("template"))
        .cloned()
        .collect();
    for (key, value) in defaults {
        let k = scalar_text(&key).unwrap_or_default().to_owned();
        match out.iter_mut().find(|(o, _)| scalar_text(o) == Some(&k)) {
            Some((_, own)) if k == "grants" => {
                if let (Kind::Seq(first), Kind::Seq(mine)) = (&value.kind, &own.kind) {
                    let mut all = first.clone();
                    all.extend(mine.iter().cloned());
                    own.kind = Kind::Seq(all);
                }
            }
            Some(_) => {}
            None => out.push((key, value)),
        }
    }
    Ok(Some(Node {
        span: node.span,
        kind: Kind::Map(out),
        secret: node.secret,
    }))
}

/// `node` with each `{param}` replaced in its text; a `{word}` left over is
/// a parameter the role did not give.
fn substituted(node: &Node, params: &[(String, String)], template: &str) -> Result<Node> {
    let kind = match &node.kind {
        Kind::Scalar { text, plain } => {
            let mut text = text.clone();
            for (from, to) in params {
                text = text.replace(from.as_str(), to);
            }
            if let Some(missing) = placeholder(&text) {
                return Err(error(
                    node.span,
                    format!(
                        "template {} uses {{{missing}}}: give `{missing}` where the role names the template (`template: {{name: {template}, {missing}: …}}`)",
                        quoted(template)
                    ),
                ));
            }
            Kind::Scalar {
                text,
                plain: *plain,
            }
        }
        Kind::Seq(items) => Kind::Seq(
            items
                .iter()
                .map(|n| substituted(n, params, template))
                .collect::<Result<_>>()?,
        ),
        Kind::Map(pairs) => Kind::Map(
            pairs
                .iter()
                .map(|(k, v)| Ok((k.clone(), substituted(v, params, template)?)))
                .collect::<Result<_>>()?,
        ),
    };
    Ok(Node {
        span: node.span,
        kind,
        secret: node.secret,
    })
}

/// The first `{word}` in `text`.
fn placeholder(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let rest = &text[start + 1..];
    let end = rest.find('}')?;
    let word = &rest[..end];
    (!word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(word)
}
