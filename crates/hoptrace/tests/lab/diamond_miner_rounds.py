"""Two rounds of diamond-miner (Iris's planner) over `hoptrace bulk`, with ClickHouse in process (chdb).

Usage: diamond_miner_rounds.py PREFIX MIN_TTL MAX_TTL FLOWS -- COMMAND...   (COMMAND runs hoptrace bulk)

Round 1 probes PREFIX (split into /24s) with FLOWS flows at each TTL; round 2 sends what diamond-miner's MDA query
asks for after round 1. Each round's probes go to COMMAND's stdin; its CSV goes into diamond-miner's results table
through diamond-miner's own table and insert statements. Prints one JSON object: per round, the probes sent, the
rows written, the links (GetLinks) and the nodes (GetNodes).
"""

import json
import re
import subprocess
import sys
import uuid

from chdb import session

from diamond_miner.format import format_probe
from diamond_miner.generators import probe_generator_from_database
from diamond_miner.insert import insert_mda_probe_counts, insert_probe_counts
from diamond_miner.queries import (
    CreateTables,
    GetLinks,
    GetNodes,
    InsertLinks,
    InsertPrefixes,
    InsertResults,
)


class ChdbClient:
    """The part of pych_client.ClickHouseClient diamond-miner uses, over an in-process chdb session."""

    def __init__(self):
        self.session = session.Session()

    def _run(self, statement, data=None, settings=None):
        # Lab tables have no date column: current ClickHouse refuses the storage policy's TTL … TO VOLUME clause.
        statement = re.sub(r"TTL\s+\S+.*?TO VOLUME '[^']*'", "", statement, flags=re.S)
        statement = re.sub(r"SETTINGS storage_policy = '[^']*'", "", statement)
        extra = {k: v for k, v in (settings or {}).items() if v}
        if extra:
            statement += " SETTINGS " + ", ".join(f"{k} = {v}" for k, v in extra.items())
        if data is not None:
            if not isinstance(data, (bytes, str)):
                data = b"\n".join(data)
            if isinstance(data, bytes):
                data = data.decode()
            statement = statement + "\n" + data
        result = self.session.query(statement, "JSONEachRow")
        return [json.loads(line) for line in result.bytes().decode().splitlines() if line]

    def json(self, statement, data=None, settings=None):
        return self._run(statement, data, settings)

    def iter_json(self, statement, data=None, settings=None):
        yield from self._run(statement, data, settings)


def probe(client, measurement_id, round_, command):
    """Sends the probes of `round_` through `command`; inserts the replies; returns what was sent and written."""
    lines = [format_probe(*p) for p in probe_generator_from_database(client, measurement_id, round_)]
    result = subprocess.run(
        command + ["--meta-round", str(round_)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"hoptrace bulk failed with status {result.returncode}")
    InsertResults().execute(client, measurement_id, data=result.stdout.encode())
    InsertPrefixes(filter_private=False).execute(client, measurement_id)
    InsertLinks(filter_private=False).execute(client, measurement_id)
    links = GetLinks(round_leq=round_, filter_partial=True, filter_virtual=True).execute(client, measurement_id)
    nodes = GetNodes(filter_private=False, include_probe_ttl=True, round_leq=round_).execute(client, measurement_id)
    return {
        "probes": len(lines),
        "rows": len(result.stdout.splitlines()) - 1,
        "links": [[l["near_addr"], l["far_addr"]] for l in links],
        "nodes": nodes,
    }


def main():
    separator = sys.argv.index("--")
    prefix, min_ttl, max_ttl, flows = sys.argv[1:separator]
    command = sys.argv[separator + 1 :]
    client = ChdbClient()
    measurement_id = str(uuid.uuid4())
    CreateTables().execute(client, measurement_id)
    ttls = range(int(min_ttl), int(max_ttl) + 1)
    insert_probe_counts(client, measurement_id, 1, [(prefix, "icmp", ttls, int(flows))])
    rounds = [probe(client, measurement_id, 1, command)]
    insert_mda_probe_counts(client, measurement_id, previous_round=1, concurrent_requests=1)
    rounds.append(probe(client, measurement_id, 2, command))
    print(json.dumps(rounds))


if __name__ == "__main__":
    main()
