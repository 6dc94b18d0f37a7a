//! `twinscape endpoint create|list|show|delete|dead-letters` and
//! `twinscape route create|list|show|delete`: where events go, over the
//! REST API (`/endpoints`, `/eventroutes`).

use super::api::{Api, Body};
use super::output::{cell, print_json, table};
use super::{Connection, Output, block_on};
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{Map, Value as Json, json};

#[derive(Debug, Args)]
pub struct EndpointArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: EndpointCommand,
}

#[derive(Debug, Subcommand)]
pub enum EndpointCommand {
    /// Create (or replace) an endpoint: a webhook, an MQTT topic or a NATS subject.
    Create(EndpointCreateArgs),
    /// List the endpoints with their delivery status.
    List,
    /// Show one endpoint and its delivery status.
    Show(NameArg),
    /// Delete an endpoint (refused while routes use it).
    Delete(NameArg),
    /// Events that could not be delivered to an endpoint (`--purge` forgets them).
    DeadLetters(DeadLettersArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EndpointType {
    /// HTTP POST of each event (CloudEvents structured mode).
    Webhook,
    /// MQTT PUBLISH (QoS 1) to an external broker.
    Mqtt,
    /// NATS publish.
    Nats,
}

#[derive(Debug, Args)]
pub struct EndpointCreateArgs {
    /// The endpoint's name (routes refer to it).
    pub name: String,
    #[arg(long = "type", short = 't', value_enum)]
    pub kind: EndpointType,
    /// `http(s)://host/path`, `mqtt://host:port` or `nats://host:port`.
    #[arg(long, short = 'u')]
    pub url: String,
    /// The MQTT topic to publish to.
    #[arg(long)]
    pub topic: Option<String>,
    /// The NATS subject to publish to.
    #[arg(long)]
    pub subject: Option<String>,
    /// Delivery attempts per event before it becomes a dead letter
    /// (default: the server's).
    #[arg(long)]
    pub max_attempts: Option<u32>,
    /// Wait after a failed attempt in milliseconds, doubling each time
    /// (default: the server's).
    #[arg(long)]
    pub backoff_ms: Option<u64>,
    /// Longest wait between attempts in milliseconds (default: the server's).
    #[arg(long)]
    pub max_backoff_ms: Option<u64>,
}

#[derive(Debug, Args)]
pub struct NameArg {
    pub name: String,
}

#[derive(Debug, Args)]
pub struct DeadLettersArgs {
    pub name: String,
    /// Delete them instead of listing them.
    #[arg(long)]
    pub purge: bool,
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: RouteCommand,
}

#[derive(Debug, Subcommand)]
pub enum RouteCommand {
    /// Create (or replace) an event route to an endpoint.
    Create(RouteCreateArgs),
    /// List the event routes.
    List,
    /// Show one event route.
    Show(IdArg),
    /// Delete an event route.
    Delete(IdArg),
}

#[derive(Debug, Args)]
pub struct RouteCreateArgs {
    /// The route's id.
    pub id: String,
    /// The endpoint the route delivers to (as `az dt route create` names it;
    /// `--endpoint` is the server's URL).
    #[arg(long, short = 'e')]
    pub endpoint_name: String,
    /// Which events: ADT's filter language, e.g.
    /// "type = 'Microsoft.DigitalTwins.Twin.Create'"; `true` for all.
    #[arg(long, short = 'f', default_value = "true")]
    pub filter: String,
}

#[derive(Debug, Args)]
pub struct IdArg {
    pub id: String,
}

pub fn run_endpoint(args: EndpointArgs) -> anyhow::Result<()> {
    let conn = args.conn;
    block_on(async move {
        let api = Api::new(&conn)?;
        let out = conn.output;
        match args.command {
            EndpointCommand::Create(c) => create_endpoint(&api, out, c).await,
            EndpointCommand::List => list_endpoints(&api, out).await,
            EndpointCommand::Show(n) => {
                let reply = api
                    .call(Method::GET, &["endpoints", &n.name], &[], None)
                    .await?;
                print_json(&reply.body);
                Ok(())
            }
            EndpointCommand::Delete(n) => {
                api.call(Method::DELETE, &["endpoints", &n.name], &[], None)
                    .await?;
                if out == Output::Human {
                    println!("Deleted endpoint {}.", n.name);
                }
                Ok(())
            }
            EndpointCommand::DeadLetters(d) => dead_letters(&api, out, d).await,
        }
    })
}

async fn create_endpoint(api: &Api, out: Output, c: EndpointCreateArgs) -> anyhow::Result<()> {
    let mut body = Map::new();
    let kind = match c.kind {
        EndpointType::Webhook => "webhook",
        EndpointType::Mqtt => "mqtt",
        EndpointType::Nats => "nats",
    };
    body.insert("type".into(), json!(kind));
    body.insert("url".into(), json!(c.url));
    if let Some(t) = &c.topic {
        body.insert("topic".into(), json!(t));
    }
    if let Some(s) = &c.subject {
        body.insert("subject".into(), json!(s));
    }
    let mut retry = Map::new();
    if let Some(n) = c.max_attempts {
        retry.insert("maxAttempts".into(), json!(n));
    }
    if let Some(n) = c.backoff_ms {
        retry.insert("backoffMs".into(), json!(n));
    }
    if let Some(n) = c.max_backoff_ms {
        retry.insert("maxBackoffMs".into(), json!(n));
    }
    if !retry.is_empty() {
        body.insert("retry".into(), Json::Object(retry));
    }
    let reply = api
        .call(
            Method::PUT,
            &["endpoints", &c.name],
            &[],
            Some(&Body::Json(Json::Object(body))),
        )
        .await?;
    print_json(&reply.body);
    if out == Output::Human {
        eprintln!("Endpoint {} saved.", c.name);
    }
    Ok(())
}

fn text(v: &Json, key: &str) -> String {
    cell(v.get(key).unwrap_or(&Json::Null))
}

async fn list_endpoints(api: &Api, out: Output) -> anyhow::Result<()> {
    let items = api.get_all(&["endpoints"], &[]).await?;
    if out == Output::Json {
        print_json(&json!({ "value": items }));
        return Ok(());
    }
    let headers: Vec<String> = [
        "NAME",
        "TYPE",
        "URL",
        "TOPIC/SUBJECT",
        "BACKLOG",
        "DELIVERED",
        "DEAD",
        "LAST ERROR",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|e| {
            let status = e.get("status").cloned().unwrap_or(Json::Null);
            let target = e.get("topic").or_else(|| e.get("subject"));
            vec![
                text(e, "name"),
                text(e, "type"),
                text(e, "url"),
                cell(target.unwrap_or(&Json::Null)),
                text(&status, "backlog"),
                text(&status, "delivered"),
                text(&status, "deadLettered"),
                text(&status, "lastError"),
            ]
        })
        .collect();
    print!("{}", table(&headers, &rows));
    println!("{} endpoint(s).", items.len());
    Ok(())
}

async fn dead_letters(api: &Api, out: Output, d: DeadLettersArgs) -> anyhow::Result<()> {
    let path = ["endpoints", d.name.as_str(), "deadletters"];
    if d.purge {
        api.call(Method::DELETE, &path, &[], None).await?;
        if out == Output::Human {
            println!("Deleted the dead letters of {}.", d.name);
        }
        return Ok(());
    }
    let items = api.get_all(&path, &[]).await?;
    if out == Output::Json {
        print_json(&json!({ "value": items }));
        return Ok(());
    }
    let headers: Vec<String> = ["SEQ", "TIME", "ATTEMPTS", "TYPE", "SUBJECT", "ERROR"]
        .map(String::from)
        .to_vec();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|l| {
            let event = l.get("event").cloned().unwrap_or(Json::Null);
            vec![
                text(l, "seq"),
                text(l, "time"),
                text(l, "attempts"),
                text(&event, "type"),
                text(&event, "subject"),
                text(l, "error"),
            ]
        })
        .collect();
    print!("{}", table(&headers, &rows));
    println!("{} dead letter(s).", items.len());
    Ok(())
}

pub fn run_route(args: RouteArgs) -> anyhow::Result<()> {
    let conn = args.conn;
    block_on(async move {
        let api = Api::new(&conn)?;
        let out = conn.output;
        match args.command {
            RouteCommand::Create(c) => {
                let body = json!({"endpointName": c.endpoint_name, "filter": c.filter});
                api.call(
                    Method::PUT,
                    &["eventroutes", &c.id],
                    &[],
                    Some(&Body::Json(body)),
                )
                .await?;
                if out == Output::Human {
                    println!("Route {} → {} saved.", c.id, c.endpoint_name);
                }
                Ok(())
            }
            RouteCommand::List => {
                let items = api.get_all(&["eventroutes"], &[]).await?;
                if out == Output::Json {
                    print_json(&json!({ "value": items }));
                    return Ok(());
                }
                let headers: Vec<String> = ["ID", "ENDPOINT", "FILTER"].map(String::from).to_vec();
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|r| vec![text(r, "id"), text(r, "endpointName"), text(r, "filter")])
                    .collect();
                print!("{}", table(&headers, &rows));
                println!("{} route(s).", items.len());
                Ok(())
            }
            RouteCommand::Show(i) => {
                let reply = api
                    .call(Method::GET, &["eventroutes", &i.id], &[], None)
                    .await?;
                print_json(&reply.body);
                Ok(())
            }
            RouteCommand::Delete(i) => {
                api.call(Method::DELETE, &["eventroutes", &i.id], &[], None)
                    .await?;
                if out == Output::Human {
                    println!("Deleted route {}.", i.id);
                }
                Ok(())
            }
        }
    })
}
