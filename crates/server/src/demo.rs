//! `serve --demo`: the demo building's models, twins, relationships and 3D
//! scene on first start, and a small simulator that keeps them changing, so the browser
//! app shows something live at once.

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use twinscape_core::{AppState, CoreError};
use twinscape_demo::twins as demo;
use twinscape_graph::Precondition;

/// Loads the demo building unless the store already holds models, and its
/// 3D scene unless the store already holds scenes.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    seed_scene(state).await?;
    if !state.world().engine().registry().is_empty() {
        return Ok(());
    }
    state
        .write(|txn| -> Result<(), CoreError> {
            txn.add_models(&demo::models())?;
            for twin in demo::twins() {
                txn.create_or_replace_twin(&twin.id, &twin.doc, &Precondition::None)?;
            }
            for r in demo::relationships() {
                txn.create_or_replace_relationship(&r.source, &r.id, &r.doc, &Precondition::None)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo building: {e}"))?;
    tracing::info!("loaded the demo building: {} twins", demo::twins().len());
    Ok(())
}

/// The demo building's scene (`twinscape_demo::scene`), when no scene or
/// behavior is stored yet.
async fn seed_scene(state: &AppState) -> anyhow::Result<()> {
    let empty = {
        let world = state.world();
        let c = &world.scenes().configuration;
        c.scenes.is_empty() && c.behaviors.is_empty()
    };
    if !empty {
        return Ok(());
    }
    let config = twinscape_scene::config::from_value(&twinscape_demo::scene::scenes_config())
        .map_err(|e| anyhow::anyhow!("the demo scene is not valid: {e}"))?;
    state
        .write(|txn| -> Result<(), CoreError> {
            txn.put_scenes(config);
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo scene: {e}"))?;
    tracing::info!(
        "loaded the demo scene '{}'",
        twinscape_demo::scene::SCENE_ID
    );
    Ok(())
}

/// Every `period`, nudges a few room temperatures (a random walk between 17
/// and 27 °C) and occasionally flips an air handling unit's status.
pub fn simulate(state: Arc<AppState>, period: Duration) {
    tokio::spawn(async move {
        let mut rng: u64 = 0x5eed_1234;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let rooms: Vec<String> = demo::twins()
            .into_iter()
            .filter(|t| t.doc["$metadata"]["$model"] == demo::ROOM)
            .map(|t| t.id)
            .collect();
        if rooms.is_empty() {
            return;
        }
        loop {
            tokio::time::sleep(period).await;
            let picks: Vec<(String, f64, bool)> = (0..3)
                .map(|_| {
                    let room = rooms[(next() % rooms.len() as u64) as usize].clone();
                    let step = ((next() % 13) as f64 - 6.0) / 10.0;
                    (room, step, next() % 40 == 0)
                })
                .collect();
            let result = state
                .write(move |txn| -> Result<(), CoreError> {
                    for (room, step, flip) in picks {
                        let current = txn
                            .engine()
                            .graph()
                            .twin_json(&room)
                            .and_then(|d| d["temperature"].as_f64())
                            .unwrap_or(21.0);
                        let value = ((current + step).clamp(17.0, 27.0) * 10.0).round() / 10.0;
                        let patch =
                            json!([{"op": "replace", "path": "/temperature", "value": value}]);
                        // A room that is gone is skipped.
                        let _ = txn.update_twin(&room, &patch, &Precondition::None);
                        if flip {
                            let ahu = "Roof_AHU2";
                            let status = txn
                                .engine()
                                .graph()
                                .twin_json(ahu)
                                .and_then(|d| d["status"].as_str().map(str::to_string));
                            let next_status = if status.as_deref() == Some("running") {
                                "fault"
                            } else {
                                "running"
                            };
                            let patch =
                                json!([{"op": "replace", "path": "/status", "value": next_status}]);
                            let _ = txn.update_twin(ahu, &patch, &Precondition::None);
                        }
                    }
                    Ok(())
                })
                .await;
            if result.is_err() {
                // Writes are refused (store failure or twins removed): stop quietly.
                return;
            }
        }
    });
}
