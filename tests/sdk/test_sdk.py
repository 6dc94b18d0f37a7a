"""The official Python SDK (azure-digitaltwins-core) against Twinscape:
models, twins, components, relationships, query paging, telemetry, event
routes and error codes. Expected values are literal."""
import glob
import json
import os
import uuid

import pytest
import requests
from azure.core import MatchConditions
from azure.core.exceptions import (HttpResponseError, ResourceExistsError,
                                   ResourceModifiedError, ResourceNotFoundError)
from azure.digitaltwins.core import DigitalTwinsEventRoute

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(HERE, "..", "..", "crates", "demo", "models")
ROOM = "dtmi:twinscape:demo:Room;1"
FLOOR = "dtmi:twinscape:demo:Floor;1"
SENSOR = "dtmi:twinscape:demo:Sensor;1"
THERMOSTAT = "dtmi:twinscape:demo:Thermostat;1"


def demo_models():
    out = []
    for path in sorted(glob.glob(os.path.join(MODELS_DIR, "*.json"))):
        with open(path, encoding="utf-8") as f:
            out.append(json.load(f))
    return out


def room(name, temperature=21.5):
    return {
        "$metadata": {"$model": ROOM},
        "name": name,
        "temperature": temperature,
        "thermostat": {"$metadata": {}, "setpoint": 21.0, "mode": "heat"},
    }


@pytest.fixture(scope="session", autouse=True)
def models(client):
    created = client.create_models(demo_models())
    return {m.id: m for m in created}


def test_models(client, models):
    assert set(models) >= {ROOM, FLOOR, SENSOR, THERMOSTAT}
    assert models[ROOM].display_name == {"en": "Room"}
    assert models[ROOM].decommissioned is False
    assert models[ROOM].upload_time is not None
    listed = {m.id for m in client.list_models()}
    assert listed == set(models)
    deps = {m.id for m in client.list_models(dependencies_for=[ROOM])}
    assert deps == {ROOM, THERMOSTAT}
    full = client.get_model(ROOM, include_model_definition=True)
    assert full.model["@id"] == ROOM
    assert client.get_model(ROOM).model is None
    with pytest.raises(HttpResponseError) as err:
        client.create_models([demo_models()[0]])
    assert err.value.status_code == 409
    assert err.value.error.code == "ModelIdAlreadyExists"
    with pytest.raises(ResourceNotFoundError) as err:
        client.get_model("dtmi:twinscape:nope;1")
    assert err.value.error.code == "ModelNotFound"


def test_decommission_and_delete_model(client):
    model = {
        "@id": "dtmi:twinscape:sdk:Temp;1", "@type": "Interface",
        "@context": "dtmi:dtdl:context;3", "contents": [{"@type": "Property", "name": "x", "schema": "integer"}],
    }
    client.create_models([model])
    client.decommission_model("dtmi:twinscape:sdk:Temp;1")
    assert client.get_model("dtmi:twinscape:sdk:Temp;1").decommissioned is True
    with pytest.raises(HttpResponseError) as err:
        client.upsert_digital_twin("temp1", {"$metadata": {"$model": "dtmi:twinscape:sdk:Temp;1"}, "x": 1})
    assert err.value.error.code == "ModelDecommissioned"
    client.delete_model("dtmi:twinscape:sdk:Temp;1")
    with pytest.raises(ResourceNotFoundError):
        client.get_model("dtmi:twinscape:sdk:Temp;1")
    with pytest.raises(HttpResponseError) as err:
        client.delete_model(THERMOSTAT)
    assert err.value.status_code == 409
    assert err.value.error.code == "ModelReferencesNotDeleted"


def test_twins_and_conditions(client):
    twin_id = "sdk-room-" + uuid.uuid4().hex[:8]
    created = client.upsert_digital_twin(twin_id, room("R1"))
    assert created["$dtId"] == twin_id
    assert created["$metadata"]["$model"] == ROOM
    etag = created["$etag"]
    assert etag.startswith('W/"')
    with pytest.raises(ResourceExistsError):
        client.upsert_digital_twin(twin_id, room("again"), match_condition=MatchConditions.IfMissing)
    got = client.get_digital_twin(twin_id)
    assert got["temperature"] == 21.5
    assert got["name"] == "R1"
    client.update_digital_twin(twin_id, [{"op": "replace", "path": "/temperature", "value": 24.5}])
    assert client.get_digital_twin(twin_id)["temperature"] == 24.5
    with pytest.raises(ResourceModifiedError):
        client.update_digital_twin(twin_id, [{"op": "replace", "path": "/temperature", "value": 1.0}],
                                   match_condition=MatchConditions.IfNotModified, etag=etag)
    assert client.get_digital_twin(twin_id)["temperature"] == 24.5
    with pytest.raises(HttpResponseError) as err:
        client.update_digital_twin(twin_id, [{"op": "replace", "path": "/temperature", "value": "hot"}])
    assert err.value.status_code == 400
    assert err.value.error.code == "ValidationFailed"
    with pytest.raises(HttpResponseError) as err:
        client.update_digital_twin(twin_id, [{"op": "remove", "path": "/nothing"}])
    assert err.value.error.code == "JsonPatchInvalid"
    # Components.
    comp = client.get_component(twin_id, "thermostat")
    assert comp["setpoint"] == 21.0
    assert "$lastUpdateTime" in comp["$metadata"]
    client.update_component(twin_id, "thermostat", [{"op": "replace", "path": "/setpoint", "value": 19.5}])
    assert client.get_component(twin_id, "thermostat")["setpoint"] == 19.5
    with pytest.raises(ResourceNotFoundError) as err:
        client.get_component(twin_id, "nope")
    assert err.value.error.code == "ComponentNotFound"
    # Telemetry.
    client.publish_telemetry(twin_id, {"temperatureReading": 22.0})
    client.publish_telemetry(twin_id, {"temperatureReading": 22.5}, message_id="m-1")
    client.publish_component_telemetry(twin_id, "thermostat", {"setpoint": 20.0})
    # Delete.
    client.delete_digital_twin(twin_id)
    with pytest.raises(ResourceNotFoundError) as err:
        client.get_digital_twin(twin_id)
    assert err.value.error.code == "DigitalTwinNotFound"
    with pytest.raises(ResourceNotFoundError):
        client.publish_telemetry(twin_id, {"temperatureReading": 1.0})


def test_relationships(client):
    floor = "sdk-floor-" + uuid.uuid4().hex[:8]
    client.upsert_digital_twin(floor, {"$metadata": {"$model": FLOOR}, "name": "F", "level": 1})
    rooms = [f"{floor}-r{i}" for i in range(3)]
    for r in rooms:
        client.upsert_digital_twin(r, room(r))
    for i, r in enumerate(rooms):
        rel = client.upsert_relationship(floor, f"c{i}", {"$relationshipName": "hasRoom", "$targetId": r})
        assert rel["$sourceId"] == floor
        assert rel["$targetId"] == r
    got = client.get_relationship(floor, "c1")
    assert got["$relationshipName"] == "hasRoom"
    listed = sorted(r["$relationshipId"] for r in client.list_relationships(floor))
    assert listed == ["c0", "c1", "c2"]
    assert list(client.list_relationships(floor, "hasEquipment")) == []
    incoming = list(client.list_incoming_relationships(rooms[2]))
    assert len(incoming) == 1
    assert incoming[0].relationship_id == "c2"
    assert incoming[0].source_id == floor
    assert incoming[0].relationship_name == "hasRoom"
    with pytest.raises(HttpResponseError) as err:
        client.delete_digital_twin(rooms[0])
    assert err.value.error.code == "RelationshipsNotDeleted"
    with pytest.raises(ResourceNotFoundError) as err:
        client.upsert_relationship(floor, "bad", {"$relationshipName": "hasRoom", "$targetId": "no-such-twin"})
    assert err.value.error.code == "TargetDigitalTwinNotFound"
    client.delete_relationship(floor, "c0")
    with pytest.raises(ResourceNotFoundError) as err:
        client.get_relationship(floor, "c0")
    assert err.value.error.code == "RelationshipNotFound"
    client.delete_digital_twin(rooms[0])


def test_query_with_paging(client):
    prefix = "sdk-q-" + uuid.uuid4().hex[:6]
    for i in range(130):
        client.upsert_digital_twin(f"{prefix}-{i:03}", room(f"Q{i}", temperature=float(i)))
    q = f"SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, '{prefix}')"
    pages = list(client.query_twins(q).by_page())
    assert len(pages) >= 2, "130 results come in more than one page"
    ids = [t["$dtId"] for page in pages for t in page]
    assert sorted(ids) == [f"{prefix}-{i:03}" for i in range(130)]
    hot = list(client.query_twins(f"{q} AND T.temperature >= 120"))
    assert sorted(t["$dtId"] for t in hot) == [f"{prefix}-{i:03}" for i in range(120, 130)]
    count = list(client.query_twins(f"SELECT COUNT() FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, '{prefix}')"))
    assert count == [{"COUNT": 130}]
    with pytest.raises(HttpResponseError) as err:
        list(client.query_twins("SELECT * FROM"))
    assert err.value.status_code == 400
    assert err.value.error.code == "SqlQueryError"


def test_event_routes(client, server):
    # Endpoints are not part of ADT's data plane; Twinscape manages them over REST.
    headers = {"Authorization": "Bearer " + server["token"]} if server["token"] else {}
    requests.put(server["endpoint"] + "/endpoints/sdk-endpoint?api-version=2023-10-31",
                 json={"type": "webhook", "url": "http://127.0.0.1:9/events"}, headers=headers, timeout=10)
    route = DigitalTwinsEventRoute(endpoint_name="sdk-endpoint", filter="type = 'Microsoft.DigitalTwins.Twin.Create'")
    client.upsert_event_route("sdk-route", route)
    got = client.get_event_route("sdk-route")
    assert got.id == "sdk-route"
    assert got.endpoint_name == "sdk-endpoint"
    assert got.filter == "type = 'Microsoft.DigitalTwins.Twin.Create'"
    assert "sdk-route" in [r.id for r in client.list_event_routes()]
    client.delete_event_route("sdk-route")
    with pytest.raises(ResourceNotFoundError) as err:
        client.get_event_route("sdk-route")
    assert err.value.error.code == "EventRouteNotFound"
