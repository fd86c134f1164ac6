#!/usr/bin/env python3
"""Every message peerscope publishes validates against its JSON Schema.

Replays every sFlow capture of the shared corpus (flows/, crafted/,
malformed/) and the project's own tests/data captures, and validates each
output line against schemas/<type>.v<schema_version>.schema.json with
jsonschema's Draft202012Validator and its format checker.  Also checks the
schemas themselves: valid draft 2020-12, strict (additionalProperties
false, everything required), and a description on every field.
connection_metrics.v2: the peering lab's captures with its connections
give every kind, every v1 member keeps its shape, and broken messages are
rejected.
Needs python3-jsonschema (Debian).
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

try:
    import jsonschema
except ImportError:  # pragma: no cover - reported as a failure below
    jsonschema = None


def walk_fields(schema, path, problems):
    """Every object schema strict, every property described."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "object" and "properties" in schema:
        if schema.get("additionalProperties") is not False:
            problems.append("%s: additionalProperties is not false" % path)
        missing = set(schema["properties"]) - set(schema.get("required", []))
        if missing:
            problems.append("%s: not required: %s" % (path, sorted(missing)))
        for name, sub in schema["properties"].items():
            if not isinstance(sub, dict) or not sub.get("description"):
                problems.append("%s.%s: no description" % (path, name))
    for key in ("properties", "$defs"):
        for name, sub in schema.get(key, {}).items():
            walk_fields(sub, "%s.%s" % (path, name), problems)
    for key in ("oneOf", "anyOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            walk_fields(sub, "%s[%s%d]" % (path, key, i), problems)
    if isinstance(schema.get("additionalProperties"), dict):
        walk_fields(schema["additionalProperties"], path + ".*", problems)


class Schemas:
    def __init__(self, rep, folder):
        self.rep = rep
        self.folder = folder
        self.validators = {}
        self.seen_types = set()

    def load_all(self):
        files = sorted(glob.glob(os.path.join(self.folder, "*.schema.json")))
        self.rep.check("schemas: at least one *.schema.json in %s" % self.folder,
                       bool(files))
        for f in files:
            name = os.path.basename(f)
            try:
                with open(f) as fh:
                    s = json.load(fh)
                jsonschema.Draft202012Validator.check_schema(s)
                ok, detail = True, ""
            except Exception as e:  # noqa: BLE001 - any failure is a FAIL
                ok, detail, s = False, str(e)[:300], None
            self.rep.check("schema %s: valid JSON Schema draft 2020-12" % name,
                           ok, detail)
            if s is None:
                continue
            self.rep.equal("schema %s: $schema is draft 2020-12" % name,
                           s.get("$schema"),
                           "https://json-schema.org/draft/2020-12/schema")
            problems = []
            walk_fields(s, name, problems)
            self.rep.check("schema %s: strict, every field described" % name,
                           not problems, "; ".join(problems[:10]))
            stem = name[:-len(".schema.json")]
            self.validators[stem] = jsonschema.Draft202012Validator(
                s, format_checker=jsonschema.FormatChecker())

    def validate_run(self, tag, run):
        self.rep.check(tag + ": replay exits 0, every line is JSON",
                       run.rc == 0 and not run.bad_lines,
                       "" if run.rc == 0 and not run.bad_lines else
                       "%s %r" % (run.describe(), run.bad_lines[:2]))
        errors = []
        for i, m in enumerate(run.messages):
            if not isinstance(m, dict) or "type" not in m or \
                    "schema_version" not in m:
                errors.append("line %d: no type/schema_version" % (i + 1))
                continue
            key = "%s.v%s" % (m["type"], m["schema_version"])
            self.seen_types.add(key)
            v = self.validators.get(key)
            if v is not None:
                self.samples = getattr(self, "samples", {})
                self.samples.setdefault(key, m)
            if v is None:
                errors.append("line %d: no schema file %s.schema.json"
                              % (i + 1, key))
                continue
            for e in sorted(v.iter_errors(m), key=lambda e: list(e.path)):
                errors.append("line %d (%s) at /%s: %s" % (
                    i + 1, key, "/".join(str(p) for p in e.path),
                    e.message[:200]))
        self.rep.check("%s: %d message(s) valid against their schema"
                       % (tag, len(run.messages)), not errors,
                       "; ".join(errors[:5]) +
                       (" (+%d more)" % (len(errors) - 5) if len(errors) > 5 else ""))


def strip_descriptions(x):
    if isinstance(x, dict):
        return {k: strip_descriptions(v) for k, v in x.items()
                if k != "description"}
    if isinstance(x, list):
        return [strip_descriptions(v) for v in x]
    return x


def connection_metrics_v2(rep, args, sch):
    """connection_metrics.v2 (issue 11): the peering lab's captures
    replayed with its connection registry give every kind (direct,
    exchange, exchange_port; discovered without the registry), all valid;
    every version-1 member is kept with its shape (descriptions aside),
    except the two that had to change; and the schema rejects what a
    consumer must not receive."""
    folder = args.schemas
    with open(os.path.join(folder, "connection_metrics.v1.schema.json")) as f:
        v1 = json.load(f)
    with open(os.path.join(folder, "connection_metrics.v2.schema.json")) as f:
        v2 = json.load(f)
    changed = sorted(k for k in v1["properties"]
                     if strip_descriptions(v1["properties"][k]) !=
                     strip_descriptions(v2["properties"].get(k)))
    # schema_version: 1 -> 2; connection_id: a configured id is any string
    rep.equal("v2 keeps every v1 member's shape but schema_version and "
              "connection_id", changed, ["connection_id", "schema_version"])
    rep.equal("v2 requires every v1 member",
              sorted(set(v1["required"]) - set(v2["required"])), [])
    changed_defs = sorted(k for k in v1["$defs"]
                          if strip_descriptions(v1["$defs"][k]) !=
                          strip_descriptions(v2["$defs"].get(k)))
    rep.equal("v2 keeps every v1 definition", changed_defs, [])

    peering = os.path.join(args.data, "peering")
    cfg = os.path.join(peering, "peerscope.demo-peering.yaml")
    by_kind = {}
    for cap in ("sflow-rate1", "ipfix"):
        run = cl.replay(args.peerscope,
                        [os.path.join(peering, cap + ".pcap.gz")],
                        config=cfg)
        sch.validate_run("peering %s with its connections" % cap, run)
        for m in run.of_type("connection_metrics"):
            by_kind.setdefault(m["kind"], m)
    run = cl.replay(args.peerscope,
                    [os.path.join(peering, "sflow-rate1.pcap.gz")])
    sch.validate_run("peering sflow-rate1 without connections", run)
    for m in run.of_type("connection_metrics"):
        by_kind.setdefault(m["kind"], m)
    rep.equal("every kind seen", sorted(by_kind),
              ["direct", "discovered", "exchange", "exchange_port"])
    v = sch.validators.get("connection_metrics.v2")
    if v is None or "exchange" not in by_kind or \
            "exchange_port" not in by_kind:
        rep.check("connection_metrics.v2 validator and samples", False)
        return
    ex, port = by_kind["exchange"], by_kind["exchange_port"]
    bad = [
        ("an unknown kind", dict(ex, kind="private")),
        ("peer_asn 0", dict(ex, peer_asn=0)),
        ("a label that is not a string",
         dict(ex, labels=dict(ex["labels"], site=1))),
        ("no port_id", {k: x for k, x in ex.items() if k != "port_id"}),
        ("attributed_by without mac",
         dict(ex, attributed_by=dict(ex["attributed_by"], **{
             "in": {k: x for k, x in ex["attributed_by"]["in"].items()
                    if k != "mac"}}))),
        ("an unknown status", dict(ex, status="sideways")),
        ("a capacity_source of its own", dict(ex, capacity_source="guess")),
        ("unattributed without samples",
         dict(port, unattributed=dict(port["unattributed"], **{"in": {}}))),
        ("connections not a list", dict(port, connections="ix-peer-a")),
        ("schema_version 1", dict(ex, schema_version=1)),
    ]
    for what, m in bad:
        rep.check("v2 rejects %s" % what, not v.is_valid(m))


def route_messages(rep, args, sch):
    """route.v1: BMP streams replayed with bmp.route_messages on (an
    FRR session start, a treat-as-withdraw, a Peer Up TLV capture) give
    both shapes (one route; a peer's routes withdrawn), and the schema
    rejects what a consumer must not receive."""
    bmp = os.path.join(args.corpus, "bmp")
    if not os.path.isdir(bmp):
        rep.skip("BMP corpus absent: route messages not validated")
        return
    routes = []
    for f in (os.path.join("split", "split_source.bmp"),
              os.path.join("malformed", "m10_peer_flag_A_on_4byte_aspath.bmp"),
              os.path.join("quirks", "frr_peerup_tlv.bmp")):
        run = cl.replay(args.peerscope, [os.path.join(bmp, f)],
                        sets=["bmp.route_messages=true"])
        sch.validate_run("%s with route messages" % f, run)
        routes += run.of_type("route")
    by_action = {}
    for m in routes:
        by_action.setdefault(m["action"], m)
    rep.equal("route messages: every action seen",
              sorted(by_action), ["announce", "peer_routes_withdrawn",
                                  "withdraw"])
    v = sch.validators.get("route.v1")
    if v is None or len(by_action) != 3:
        return
    ann, bulk = by_action["announce"], by_action["peer_routes_withdrawn"]
    bad = [dict(ann, unexpected_field=1),
           dict(ann, action="peer_routes_withdrawn"),
           dict(ann, attributes=dict(ann["attributes"], med="10")),
           dict(bulk, prefix=ann["prefix"]),
           dict(bulk, routes_withdrawn=0),
           dict(ann, time=1795679360)]
    rep.check("schema route.v1 rejects an unknown field, mixed shapes, a "
              "string MED, an empty bulk withdrawal and a numeric time",
              not any(v.is_valid(m) for m in bad),
              repr([v.is_valid(m) for m in bad]))


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    if jsonschema is None:
        rep.check("python3-jsonschema is installed", False,
                  "apt-get install python3-jsonschema")
        rep.finish()
    sch = Schemas(rep, args.schemas)
    sch.load_all()

    # the project's own captures (IPFIX over IPv6, fed to the sFlow decoder
    # on purpose: the exporter_health of rejected datagrams must validate)
    data = sorted(glob.glob(os.path.join(args.data, "*.pcap*")))
    for f in data:
        for sets in ([], cl.listen_sets(4739)):
            run = cl.replay(args.peerscope, [f], 60, sets=sets)
            sch.validate_run("data %s%s" % (os.path.basename(f),
                                            " --set " + sets[0] if sets else ""),
                             run)

    flows = cl.corpus_flows(args)
    if flows is None:
        cl.skip_corpus_line(rep, args)
    else:
        caps = []
        for sub, mf in (("", os.path.join("tools", "manifest.tsv")),
                        ("crafted", "manifest.tsv"),
                        ("malformed", "manifest.tsv")):
            for fn, port, dis in cl.read_manifest(os.path.join(flows, sub, mf)):
                is_sflow = dis == "sflow" or fn in ("empty-and-tiny.pcap",
                                                    "flow-bad-version.pcap")
                if is_sflow:
                    caps.append((os.path.join(flows, sub, fn), port))
        rep.check("corpus: sFlow captures found", len(caps) >= 15,
                  "%d" % len(caps))
        for pcap, port in caps:
            name = os.path.relpath(pcap, flows)
            sets = cl.listen_sets(port)
            for window in (86400, 10):
                run = cl.replay(args.peerscope, [pcap], window, sets=sets)
                sch.validate_run("%s --window %d" % (name, window), run)
        # window caps that bind: two sFlow agents and an IPFIX exporter in
        # one window, one of each published, the rest in window_other
        run = cl.replay(args.peerscope, [
            os.path.join(flows, "pmacctd-sflow-rate1-live.pcap"),
            os.path.join(flows, "pmacctd-ipfix-live.pcap")], 86400,
            sets=["listen.sflow=:6343", "listen.ipfix=:4739",
                  "limits.connections_per_window=1",
                  "limits.exporters_per_window=1"])
        sch.validate_run("capped window (window_other)", run)
        rep.equal("capped window: one window_other message",
                  len(run.of_type("window_other")), 1)
        # the schemas must also reject: an unknown field, a bad status string
        sample = sch.samples if hasattr(sch, "samples") else {}
        for key, m in sorted(sample.items()):
            v = sch.validators[key]
            bad1 = dict(m, unexpected_field=1)
            bad2 = dict(m, window=dict(m["window"], start="yesterday"))
            rep.check("schema %s rejects an unknown field and a bad date-time"
                      % key, not v.is_valid(bad1) and not v.is_valid(bad2))
        want = {"connection_metrics.v2", "exporter_health.v1",
                "window_other.v1"}
        rep.check("corpus: every window message type was seen and validated",
                  want <= sch.seen_types, "seen %r" % sorted(sch.seen_types))
    route_messages(rep, args, sch)
    connection_metrics_v2(rep, args, sch)
    rep.finish()


if __name__ == "__main__":
    main()
