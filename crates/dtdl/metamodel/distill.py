#!/usr/bin/env python3
"""Distil DTDLParser's metamodel digest into the compact metamodel this crate embeds.

Usage: distill.py <path to dtdl_digest.json> > metamodel.json

The digest is `dtdl/dtdl_digest.json` of digitaltwinconsortium/DTDLParser (MIT);
see SOURCE.md for the commit. Only DTDL v2 and v3 are kept, with the extension
contexts this crate supports: IoT Central (v2) and QuantitativeTypes v1 (v3).
"""
import json
import sys

VERSIONS = ["2", "3"]
CONTEXTS = {
    "dtmi:dtdl:context;2": 2,
    "dtmi:dtdl:context;3": 3,
    "dtmi:iotcentral:context;2": 2,
    "dtmi:dtdl:extension:quantitativeTypes;1": 3,
}

PROP_KEYS = [
    "allowed", "class", "datatype", "literal", "plural", "optional", "minCount", "maxCount",
    "maxLength", "pattern", "patternDesc", "minInclusive", "maxInclusive", "values", "valueUris",
    "versions", "idRequired", "typeRequired", "uniqueAmong", "uniqueProperties", "dtmiSegment",
    "dictionaryKey", "value", "defaultLanguage", "deprecated", "abstract",
]


def main():
    d = json.load(open(sys.argv[1], encoding="utf-8-sig"))
    out = {"versions": {}, "extensions": {}, "supplementalTypes": {}, "elements": []}
    for v in VERSIONS:
        iv = int(v)
        classes = {}
        for name, c in d["materialClasses"].items():
            if iv not in c["dtdlVersions"]:
                continue
            props = {}
            for pname, p in c["properties"].items():
                if v not in p:
                    continue
                merged = dict(p["_"])
                merged.update(p[v])
                rec = {k: merged[k] for k in PROP_KEYS if k in merged}
                if "maxLength" in rec:
                    rec["maxLength"] = rec["maxLength"].get("")
                if "patternDesc" in rec:
                    rec["patternDesc"] = rec["patternDesc"].get("en-us")
                props[pname] = rec
            inst = c.get("instance")
            classes[name] = {
                "abstract": c["abstract"],
                "parent": c["parentClass"],
                "concrete": c["concreteSubclasses"].get(v, []),
                "elemental": c["elementalSubclasses"].get(v, []),
                "extensible": c["extensibleMaterialSubclasses"].get(v, []),
                "typeOptional": iv in c["typeOptionalVersions"],
                "idRequired": iv in c["idRequiredVersions"],
                "idRequiredWhen": c["idRequiredWhen"].get(v, []),
                "rootable": c["rootable"],
                "overt": c["overt"],
                "standardElements": (c.get("standardElementIds") or {}).get(v, []),
                "instance": inst.get(v) if inst else None,
                "properties": props,
            }
        controls = [dc for dc in d["descendantControls"] if dc["dtdlVersion"] == iv]
        for dc in controls:
            if "maxDepth" in dc:
                dc["maxDepth"] = dc["maxDepth"].get("")
            if "maxCount" in dc:
                dc["maxCount"] = dc["maxCount"].get("")
        out["versions"][v] = {
            "context": d["contexts"]["dtmi:dtdl:context;" + v],
            "classes": classes,
            "descendantControls": controls,
            "identifier": {
                "pattern": d["identifierDefinition"][v]["pattern"],
                "maxLength": d["identifierDefinition"][v]["maxLength"][""],
                "interfaceMaxLength": d["identifierDefinition"]["Interface"][v]["maxLength"][""],
            },
            "reservedPrefixes": d["reservedIdPrefixes"]["dtmi:dtdl:context;" + v],
            "partitionMaxBytes": d["partitions"][v].get("maxBytes", {}).get(""),
            "apocrypha": d["apocrypha"][v],
            "restrictKeywords": iv in d["dtdlVersionsRestrictingKeywords"],
            "allowUndefinedExtensionsByDefault": iv in d["dtdlVersionsAllowingUndefinedExtensionsByDefault"],
            "extensibleMaterialClasses": d["extensibleMaterialClasses"][v],
            "rootableClasses": d["rootableClasses"][v],
        }
    for ctx, ver in CONTEXTS.items():
        if ctx.startswith("dtmi:dtdl:context;"):
            continue
        out["extensions"][ctx] = {
            "version": ver,
            "implicitVersion": d["affiliateContextsImplicitDtdlVersions"].get(ctx),
            "terms": d["contexts"][ctx],
            "reservedPrefixes": d["reservedIdPrefixes"].get(ctx, []),
        }
    for sid, s in d["supplementalTypes"].items():
        if s["extensionContext"] not in CONTEXTS:
            continue
        s = dict(s)
        s.pop("elements", None)
        for p in s["properties"].values():
            p.pop("description", None)
        out["supplementalTypes"][sid] = s
    for e in d["elements"]:
        ctx = e["@context"]
        ctxs = ctx if isinstance(ctx, list) else [ctx]
        if all(c in CONTEXTS for c in ctxs):
            out["elements"].append(e)
    json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main()
