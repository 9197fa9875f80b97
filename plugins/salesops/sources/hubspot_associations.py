"""HubSpot associations as lookup fields (deal -> company = Opportunity.AccountId, line item ->
deal = OpportunityLineItem.OpportunityId).

HubSpot keeps the link between a deal and its company as an *association*, not a property, and
adding or re-pointing one does not move the deal's ``hs_lastmodifieddate``: an incremental search
never sees a deal associated late, or moved to another company after it was extracted. So:

* every record a window reads gets its associations from
  ``POST /crm/v4/associations/{from}/{to}/batch/read`` (``batch_size`` ids per call, following
  each result's ``paging.next.after``), mapped to the manifest field (``associations:`` in
  include/config/sources/hubspot.yaml);
* every ``association_refresh_days`` the loader asks :func:`read_all` for every live record's
  associations (ids listed with ``GET /crm/v3/objects/{object}``) and overwrites the staged
  values, the mechanism Salesforce formula fields use (``ops.load_audit.formulas_refreshed``).

Several associated records: the primary one (``primary_association_type_ids``, deal -> company
primary is type 5), else the lowest id (with a log line). None: the field is null (a removed
association clears it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from salesops.sources.base import Page, Record, SourceError
from salesops.sources.http import ApiClient, chunks, decode_json, require_keys

log = logging.getLogger(__name__)


def read_batch(
    client: ApiClient,
    from_object: str,
    to_object: str,
    ids: Sequence[str],
    *,
    batch_size: int,
    primary_type_ids: set[int],
) -> dict[str, str | None]:
    """id -> the associated ``to_object`` id (primary first) for every id asked (None: none)."""
    out: dict[str, str | None] = dict.fromkeys((str(i) for i in ids), None)
    found: dict[str, list[tuple[bool, str]]] = {}
    pending = [{"id": str(i)} for i in ids]
    path = f"/crm/v4/associations/{from_object}/{to_object}/batch/read"
    while pending:
        next_round: list[dict[str, str]] = []
        for chunk in chunks(pending, batch_size):
            payload = decode_json(
                client.request("POST", path, json={"inputs": list(chunk)}, ok=(200, 207), idempotent=True),
                "hubspot",
            )
            body = require_keys(payload, ["results"], f"HubSpot {from_object}->{to_object} associations")
            for res in body["results"]:
                rid = str((res.get("from") or {}).get("id"))
                if rid not in out:
                    raise SourceError(
                        f"HubSpot {from_object}->{to_object} associations: result for {rid!r}, which was not asked"
                    )
                for to in res.get("to") or []:
                    types = {int(t.get("typeId", -1)) for t in to.get("associationTypes") or []}
                    found.setdefault(rid, []).append((bool(types & primary_type_ids), str(to["toObjectId"])))
                after = (((res.get("paging") or {}).get("next")) or {}).get("after")
                if after:
                    next_round.append({"id": rid, "after": str(after)})
        pending = next_round
    for rid, targets in found.items():
        primary = sorted({t for p, t in targets if p}, key=_id_key)
        others = sorted({t for _, t in targets}, key=_id_key)
        if primary:
            out[rid] = primary[0]
        else:
            out[rid] = others[0]
            if len(others) > 1:
                log.info(
                    "hubspot: %s %s has %d %s and no primary one; using the lowest id %s",
                    from_object,
                    rid,
                    len(others),
                    to_object,
                    others[0],
                )
    return out


def _id_key(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (0, value)


def attach(
    client: ApiClient,
    hs_object: str,
    records: list[Record],
    associations: dict[str, str],
    *,
    batch_size: int,
    primary_type_ids: set[int],
) -> list[Record]:
    """Set each association field (``{field: to_object}``) on the records, in place."""
    ids = [str(r["Id"]) for r in records]
    for field, to_object in associations.items():
        found = read_batch(
            client, hs_object, to_object, ids, batch_size=batch_size, primary_type_ids=primary_type_ids
        )
        for rec in records:
            rec[field] = found[str(rec["Id"])]
    return records


def list_ids(client: ApiClient, hs_object: str, modstamp: str, page_size: int) -> Iterator[list[Record]]:
    """Every live record as ``{Id, <modstamp>}`` pages (``GET /crm/v3/objects/{object}``)."""
    params: dict[str, Any] = {"limit": page_size, "archived": "false", "properties": modstamp}
    page = 0
    while True:
        page += 1
        payload = client.get_json(f"/crm/v3/objects/{hs_object}", params=params)
        data = require_keys(payload, ["results"], f"HubSpot {hs_object} list page {page}")
        yield [
            {"Id": str(r["id"]), "_modstamp": (r.get("properties") or {}).get(modstamp)}
            for r in data["results"]
        ]
        after = ((data.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return
        params = {**params, "after": after}


def read_all(
    client: ApiClient,
    hs_object: str,
    modstamp: str,
    cursor: str,
    associations: dict[str, str],
    *,
    page_size: int,
    batch_size: int,
    primary_type_ids: set[int],
) -> Iterator[Page]:
    """Pages of ``{Id, <cursor>, <association fields>}`` for every live record."""
    for page in list_ids(client, hs_object, modstamp, page_size):
        if not page:
            continue
        records = [{"Id": r["Id"], cursor: r["_modstamp"]} for r in page]
        yield attach(
            client, hs_object, records, associations, batch_size=batch_size, primary_type_ids=primary_type_ids
        )
