"""advance(): move the demo clock forward with realistic daily activity.

Per simulated day: activities on open deals (LastActivityDate kept equal to the latest one),
stage moves with field history, close-date pushes and pull-ins, amount edits, wins and losses
(won deals get a FinanceBooking), new opportunities and leads (routed, within SLA unless a
defect is injected and recorded), lifecycle moves, lead conversions, campaign members, and a few
deletes. Every change is logged in change_log and stamped inside (old clock, new clock].

How the ground truth stays exact (documented rule):
* Clean open opportunities stay clean: they get activity at least every
  ``max_days_between_activities`` days, and before their CloseDate passes they are pushed (only
  while pushes < max_pushes) or closed.
* Defective records are never "repaired" by the simulation: past-due deals are never pushed or
  closed, stale deals never get activity, duplicates/malformed/orphans are left alone. A
  defective open deal that reaches its CloseDate is pushed if it still may be, else closed lost;
  closing can end a defect that only applies to open deals (stale, missing next step, ...).
* The ground truth is re-derived from the data by rules.py after every advance(), so such
  transitions are reflected exactly.

Memory and time at 1 M opportunities (issue 17): the state is loaded set-wise by the SQL in
include/sql/demo/ (per-row masks and numbers for every record, text only for open deals, no whole
tables in pandas and no Python sets of millions of ids); the rows an event copies are fetched on
demand; the deletion pools stay in DuckDB temp tables; the write-back updates only the cells the
run wrote. The seeded random stream is drawn in the same order as before, so a seed gives the
same demo data.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from salesops.config import policy
from salesops.sql import render
from salesops_demo import names
from salesops_demo.frame import Growing, Rows
from salesops_demo.generate import (
    EVENT_SUBJECTS,
    NEXT_STEPS,
    PREFIX,
    PRODUCTS,
    SUFFIX_LONG,
    TASK_SUBJECTS,
    _break_email,
    _typo,
    demo_config,
)
from salesops_demo.store import q

ORIGIN = "simulation"
NAT = np.datetime64("NaT")


def _sql(name: str, **context: Any) -> str:
    return render(f"demo/{name}.sql", **context)


def _objects(a: np.ndarray) -> np.ndarray:
    """A fetched text column as an object array, None where the value is missing."""
    if isinstance(a, np.ma.MaskedArray):
        out = np.array(a.data, dtype=object)
        out[np.ma.getmaskarray(a)] = None
        return out
    return np.asarray(a, dtype=object)


def _shared(a: np.ndarray) -> np.ndarray:
    """``_objects`` with one string object per distinct value (owners, stages, picklists)."""
    out = _objects(a)
    codes, uniques = pd.factorize(out)
    shared = np.empty(len(uniques) + 1, dtype=object)
    shared[:-1] = list(uniques)  # shared[-1] stays None: code -1 is a missing value
    return shared[codes]


def _fill(a: np.ndarray, fill: Any) -> np.ndarray:
    return a.filled(fill) if isinstance(a, np.ma.MaskedArray) else np.asarray(a)


class _Pool:
    """An Id-ordered candidate list kept in a DuckDB temp table (contacts or tasks a day may delete).

    The tables it is made from do not change during a run (the run writes at the end), so the pool
    is made once; records the run deletes are taken out by position. ``pick(js)`` returns the ids
    at positions ``js`` of the list without the removed ones: what indexing the filtered Python
    list gave, without holding a million ids in Python.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, create: str, table: str):
        self.con = con
        self.table = table
        con.execute(_sql(create))
        self.n0 = con.execute(_sql("simulate_pool_count", sim_pool=table)).fetchall()[0][0]
        self.removed: list[int] = []  # sorted positions of removed ids
        self.gone: set[str] = set()

    def remove(self, ids: list[str]) -> None:
        new = [i for i in dict.fromkeys(ids) if i not in self.gone]
        if not new:
            return
        self.gone.update(new)
        self.con.register("_sim_ids", pd.DataFrame({"Id": pd.Series(new, dtype=object)}))
        try:
            for (pos,) in self.con.execute(_sql("simulate_pool_positions", sim_pool=self.table)).fetchall():
                insort(self.removed, int(pos))
        finally:
            self.con.unregister("_sim_ids")

    def __len__(self) -> int:
        return self.n0 - len(self.removed)

    def _position(self, j: int) -> int:
        """Position in the whole pool of the j-th id not removed."""
        p = j
        while True:
            k = j + bisect_right(self.removed, p)
            if k == p:
                return p
            p = k

    def pick(self, js: list[int]) -> list[str]:
        positions = [self._position(int(j)) for j in js]
        found = dict(
            self.con.execute(_sql("simulate_pool_pick", sim_pool=self.table), [positions]).fetchall()
        )
        return [found[p] for p in positions]


class Simulator:
    """Loads the state it needs, simulates N days in memory, writes the changes back."""

    def __init__(self, con: duckdb.DuckDBPyConnection, meta: dict[str, str], days: int, seed: int | None):
        self.con = con
        self.meta = meta
        self.days = days
        self.clock = datetime.fromisoformat(meta["clock"])
        base_seed = int(meta["seed"])
        step = int(self.clock.timestamp())
        self.rng = np.random.default_rng([base_seed, step, days] + ([seed] if seed is not None else []))
        self.cfg = demo_config()
        self.sim = self.cfg["simulation"]
        self.stages = policy("stages")
        self.hyg = policy("hygiene")
        self.terr = policy("territories")
        self.stage_list = self.stages["stages"]
        self.max_pushes = int(self.hyg["close_date"]["max_pushes"])
        self.log: list[tuple[str, str, str, datetime]] = []
        self.inserts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.deletes: list[tuple[str, str, datetime]] = []
        self.oli_updates: list[dict[str, Any]] = []
        self.new_dups: list[dict[str, str]] = []
        self.next_id: dict[str, int] = {}
        self.pools: dict[str, _Pool] = {}
        self._load()

    # ------------------------------------------------------------------ state
    def _schema(self, api: str) -> dict[str, str]:
        return dict(self.con.execute(_sql("simulate_table_columns"), [api]).fetchall())

    def _fetch_rows(self, api: str, rowids: np.ndarray) -> list[dict[str, Any]]:
        """Every column of the rows at these rowids, in that order (Python values; None = missing)."""
        res = self.con.execute(_sql("simulate_rows_by_rowid", sim_table=q(api)), [rowids.tolist()])
        cols = [d[0] for d in res.description][1:]
        rows = {r[0]: dict(zip(cols, r[1:], strict=True)) for r in res.fetchall()}
        return [rows[int(r)] for r in rowids]

    def _load(self) -> None:
        con = self.con
        self.users = con.execute(_sql("simulate_users")).df()
        self.user_set = set(self.users["Id"])
        self.n_contacts, self.n_tasks = con.execute(_sql("simulate_counts")).fetchall()[0]
        # table order: a new deal's account is drawn by position
        accounts = con.sql(_sql("simulate_accounts")).to_arrow_table()
        # Arrow columns (compact), one value read per new deal: a pandas row per deal (iloc) was
        # most of new_opportunity, Python strings for 510 k accounts 0.2 GB
        self.accounts = {c: accounts.column(c).combine_chunks() for c in accounts.column_names}
        self.n_accounts = accounts.num_rows
        del accounts
        self.new_account_names: set[str] = set()  # companies converted during this run
        self.campaigns = _objects(con.execute(_sql("simulate_campaigns")).fetchnumpy()["Id"])

        st = con.execute(
            _sql("simulate_opportunity_state"),
            [[s["name"] for s in self.stage_list], [int(s["order"]) for s in self.stage_list]],
        ).fetchnumpy()
        n = len(st["closed"])
        if isinstance(st["stage_order"], np.ma.MaskedArray) and st["stage_order"].mask.any():
            raise ValueError("demo CRM has opportunities with a StageName not in stages.yaml")
        self.order = _fill(st["stage_order"], 0).astype(int)
        self.closed = _fill(st["closed"], False).astype(bool)
        self.close = _fill(st["close_date"], NAT).astype("datetime64[D]")
        self.lad = _fill(st["last_activity"], NAT).astype("datetime64[D]")
        self.amount = _fill(st["amount"], np.nan).astype(float)
        self.opp_clean = np.asarray(st["clean"], dtype=bool)
        self.opp_stale_def = np.asarray(st["stale_def"], dtype=bool)
        self.opp_pastdue_def = np.asarray(st["pastdue_def"], dtype=bool)
        self.opp_pushed_def = np.asarray(st["pushed_def"], dtype=bool)
        self.pushes = _fill(st["pushes"], 0).astype(int)
        self.item_n = _fill(st["item_n"], 0).astype(int)
        self.item_last = _objects(st["item_last"])
        self.item_last_total = _fill(st["item_last_total"], np.nan).astype(float)
        self.opp_convref = np.asarray(st["converted"], dtype=bool)  # a lead conversion's deal
        self.opp_booked = np.asarray(st["booked"], dtype=bool)
        self.opp_who = _objects(st["first_contact"])  # WhoId of activities on the deal
        self.opp_stamp = np.full(n, NAT, "datetime64[s]")
        self.opp_deleted = np.zeros(n, bool)
        self.opp_new = np.zeros(n, bool)
        opp_cols = {
            "Id": _objects(st["Id"]),
            "AccountId": _objects(st["AccountId"]),
            **{
                c: _shared(st[c])
                for c in (
                    "OwnerId",
                    "Type",
                    "NextStep",
                    "StageName",
                    "ForecastCategoryName",
                    "CurrencyIsoCode",
                )
            },
        }
        del st
        # text only for open deals: nothing the simulation does touches a closed one
        self.opp = Rows(self._schema("Opportunity"), opp_cols, n, loaded=~self.closed)

        ls = con.execute(_sql("simulate_lead_state")).fetchnumpy()
        nl = len(ls["Id"])
        lead_rowid = _fill(ls["row_id"], -1).astype(np.int64)
        self.lead_owned = np.asarray(ls["owned"], dtype=bool)
        self.lead_conv = np.asarray(ls["converted"], dtype=bool)
        self.lead_flag = np.asarray(ls["flagged"], dtype=bool)
        self.lead_campaign = np.asarray(ls["in_campaign"], dtype=bool)
        self.lead_has_life = np.asarray(ls["has_life"], dtype=bool)
        self.life = _shared(ls["life_stage"])  # latest lifecycle stage (None: none yet)
        self.lead_stamp = np.full(nl, NAT, "datetime64[s]")
        self.lead_deleted = np.zeros(nl, bool)
        self.lead_dirty = np.zeros(nl, bool)
        self.lead = Rows(
            self._schema("Lead"),
            {"Id": _objects(ls["Id"])},
            nl,
            fetch=lambda idx: self._fetch_rows("Lead", lead_rowid[idx]),
        )
        del ls
        self.lead_arrays = Growing(
            self,
            (
                "lead_stamp",
                "lead_deleted",
                "lead_owned",
                "lead_conv",
                "lead_flag",
                "lead_dirty",
                "lead_campaign",
                "lead_has_life",
                "life",
            ),
        )
        self.opp_arrays = Growing(
            self,
            (
                "order",
                "closed",
                "close",
                "lad",
                "amount",
                "opp_stamp",
                "opp_deleted",
                "opp_stale_def",
                "opp_pastdue_def",
                "opp_pushed_def",
                "opp_new",
                "opp_clean",
                "pushes",
                "item_n",
                "item_last",
                "item_last_total",
                "opp_convref",
                "opp_booked",
                "opp_who",
            ),
        )
        self.contact_deleted: set[str] = set()

        self.regions = list(self.terr["regions"].keys())
        self.segments = [s["name"] for s in self.terr["segments"]]
        self.team_for = {(r["region"], r["segment"]): r["team"] for r in self.terr["routing_rules"]}
        self.team_users: dict[tuple[str, str], np.ndarray] = {}
        for (team, role), grp in self.users.groupby(["Team__c", "UserRole"]):
            self.team_users[(team, role)] = grp["Id"].to_numpy(dtype=object)

    def new_id(self, api: str) -> str:
        if api not in self.next_id:
            prefix = PREFIX[api] + "DM"
            row = self.con.execute(_sql("simulate_max_id", sim_table=q(api)), [prefix + "%", api]).fetchall()[
                0
            ][0]
            self.next_id[api] = (int(row[5:]) if row else 0) + 1
        n = self.next_id[api]
        self.next_id[api] = n + 1
        return f"{PREFIX[api]}DM{n:013d}"

    def user_in(self, team: str, role: str = "Account Executive") -> str:
        pool = self.team_users[(team, role)]
        return str(pool[int(self.rng.integers(0, len(pool)))])

    # ------------------------------------------------------------------ recording
    def touch_opp(self, i: int, ts: np.datetime64, kind: str = "update") -> None:
        cur = self.opp_stamp[i]
        self.opp_stamp[i] = ts if np.isnat(cur) else max(cur, ts)
        self.log.append(("Opportunity", self.opp.at[i, "Id"], kind, ts))

    def touch_lead(self, i: int, ts: np.datetime64, kind: str = "update") -> None:
        cur = self.lead_stamp[i]
        self.lead_stamp[i] = ts if np.isnat(cur) else max(cur, ts)
        self.lead_dirty[i] = True
        self.log.append(("Lead", self.lead.at[i, "Id"], kind, ts))

    def insert(self, api: str, row: dict[str, Any], ts: np.datetime64) -> str:
        rid = row.get("Id") or self.new_id(api)
        row["Id"] = rid
        self.inserts[api].append(row)
        self.log.append((api, rid, "insert", ts))
        return rid

    def history(self, i: int, field: str, old: Any, new: Any, ts: np.datetime64) -> None:
        self.insert(
            "OpportunityFieldHistory",
            {
                "OpportunityId": self.opp.at[i, "Id"],
                "Field": field,
                "OldValue": old,
                "NewValue": new,
                "CreatedDate": ts,
            },
            ts,
        )

    # ------------------------------------------------------------------ opportunity events
    def set_stage(self, i: int, order: int, ts: np.datetime64) -> None:
        old_stage = self.opp.at[i, "StageName"]
        st = self.stage_list[order - 1]
        old_fc = self.opp.at[i, "ForecastCategoryName"]
        self.history(i, "StageName", old_stage, st["name"], ts)
        self.opp.at[i, "StageName"] = st["name"]
        self.opp.at[i, "Probability"] = float(st["probability"])
        self.opp.at[i, "IsClosed"] = bool(st["is_closed"])
        self.opp.at[i, "IsWon"] = bool(st["is_won"])
        if old_fc not in st["forecast_categories"]:
            self.opp.at[i, "ForecastCategoryName"] = st["forecast_categories"][0]
            self.history(i, "ForecastCategoryName", old_fc, st["forecast_categories"][0], ts)
        self.order[i] = order
        self.closed[i] = bool(st["is_closed"])
        if order >= 2 and not st["is_closed"] and not _filled(self.opp.at[i, "NextStep"]):
            self.opp.at[i, "NextStep"] = NEXT_STEPS[int(self.rng.integers(0, len(NEXT_STEPS)))]
        if "Products" in st["required_fields"] and self.item_n[i] == 0 and self.amount[i] > 0:
            self.add_items(i, ts)
        self.touch_opp(i, ts)

    def add_items(self, i: int, ts: np.datetime64) -> None:
        cents = int(round(self.amount[i] * 100))
        k = 1 + int(self.rng.random() < 0.5)
        rows = []
        rest = cents
        for j in range(k):
            code, pname, _ = PRODUCTS[int(self.rng.integers(0, len(PRODUCTS)))]
            if j < k - 1:
                qty = int(self.rng.integers(1, 11))
                unit = max(1, int(cents * self.rng.uniform(0.1, 0.6) / qty))
                rest -= unit * qty
            else:
                qty, unit = 1, rest
            rows.append((code, pname, qty, unit))
        for code, pname, qty, unit in rows:
            rid = self.insert(
                "OpportunityLineItem",
                {
                    "OpportunityId": self.opp.at[i, "Id"],
                    "ProductCode": code,
                    "Name": pname,
                    "Quantity": float(qty),
                    "UnitPrice": unit / 100,
                    "TotalPrice": unit * qty / 100,
                    "CreatedDate": ts,
                    "SystemModstamp": ts,
                },
                ts,
            )
        self.item_n[i] += k
        self.item_last[i] = rid
        self.item_last_total[i] = rows[-1][3] / 100

    def set_close_date(self, i: int, new: np.datetime64, ts: np.datetime64) -> None:
        old = self.close[i]
        self.history(i, "CloseDate", str(old), str(new), ts)
        if new > old:
            self.pushes[i] += 1
        self.close[i] = new
        self.opp.at[i, "CloseDate"] = pd.Timestamp(new)
        self.touch_opp(i, ts)

    def close_deal(self, i: int, won: bool, ts: np.datetime64) -> None:
        day = ts.astype("datetime64[D]")
        if self.close[i] != day:
            self.history(i, "CloseDate", str(self.close[i]), str(day), ts)
            self.close[i] = day
            self.opp.at[i, "CloseDate"] = pd.Timestamp(day)
        if won:
            self.set_stage(i, 7, ts)
            oid = self.opp.at[i, "Id"]
            if not self.opp_booked[i]:
                self.insert(
                    "FinanceBooking",
                    {
                        "OpportunityId": oid,
                        "AccountId": self.opp.at[i, "AccountId"],
                        "BookingDate": day,
                        "Amount": self.amount[i],
                        "BookingType": self.opp.at[i, "Type"],
                        "SystemModstamp": ts,
                        # multi-currency demo: booked in the deal's currency (null = corporate)
                        "CurrencyIsoCode": self.opp.at[i, "CurrencyIsoCode"],
                    },
                    ts,
                )
                self.opp_booked[i] = True
        else:
            self.set_stage(i, 8, ts)
            self.opp.at[i, "Loss_Reason__c"] = self.stages["picklists"]["loss_reason"][
                int(self.rng.integers(0, len(self.stages["picklists"]["loss_reason"])))
            ]

    def activity(self, i: int, ts: np.datetime64) -> None:
        day = ts.astype("datetime64[D]")
        oid = self.opp.at[i, "Id"]
        owner = self.opp.at[i, "OwnerId"]
        if not isinstance(owner, str) or owner not in self.user_set:
            owner = str(self.users["Id"].iloc[0])
        who = self.opp_who[i]
        if who in self.contact_deleted:
            who = None
        if self.rng.random() < 0.3:
            self.insert(
                "Event",
                {
                    "WhatId": oid,
                    "WhoId": who,
                    "OwnerId": owner,
                    "Subject": EVENT_SUBJECTS[int(self.rng.integers(0, len(EVENT_SUBJECTS)))],
                    "StartDateTime": ts,
                    "ActivityDate": day,
                    "CreatedDate": ts,
                    "SystemModstamp": ts,
                },
                ts,
            )
        else:
            t = ["Call", "Email"][int(self.rng.integers(0, 2))]
            self.insert(
                "Task",
                {
                    "WhatId": oid,
                    "WhoId": who,
                    "OwnerId": owner,
                    "Subject": TASK_SUBJECTS[t][int(self.rng.integers(0, 3))],
                    "Type": t,
                    "Status": "Completed",
                    "ActivityDate": day,
                    "CreatedDate": ts,
                    "SystemModstamp": ts,
                },
                ts,
            )
        if np.isnat(self.lad[i]) or day > self.lad[i]:
            self.lad[i] = day
            self.opp.at[i, "LastActivityDate"] = pd.Timestamp(day)
            self.touch_opp(i, ts)

    def new_opportunity(
        self,
        ts: np.datetime64,
        account: dict[str, Any] | None = None,
        owner: str | None = None,
        stage: int | None = None,
        otype: str | None = None,
        source: str | None = None,
    ) -> int:
        rng = self.rng
        if account is None:
            k = int(rng.integers(0, self.n_accounts))
            account = {c: a[k].as_py() for c, a in self.accounts.items()}
        seg = account["Segment__c"]
        team = self.team_for[(account["Region__c"], seg)]
        lo, hi = self.cfg["opportunities"]["amount_range"][seg]
        amount = float(np.round(np.exp(np.log(lo) + rng.random() * (np.log(hi) - np.log(lo))), -2))
        order = stage or int(rng.integers(1, 3))
        st = self.stage_list[order - 1]
        otype = otype or ["New Business", "Expansion", "Renewal"][int(rng.choice(3, p=[0.5, 0.35, 0.15]))]
        day = ts.astype("datetime64[D]")
        close_day = day + int(rng.integers(30, 181))
        row = {
            "Id": self.new_id("Opportunity"),
            "Name": f"{account['Name']} - {otype}",
            "AccountId": account["Id"],
            "OwnerId": owner or self.user_in(team),
            "StageName": st["name"],
            "Amount": amount,
            "Probability": float(st["probability"]),
            "CloseDate": pd.Timestamp(close_day),
            "ForecastCategoryName": st["forecast_categories"][0],
            "NextStep": NEXT_STEPS[int(rng.integers(0, len(NEXT_STEPS)))],
            "LastActivityDate": pd.NaT,
            "Type": otype,
            "LeadSource": source
            or self.stages["picklists"]["lead_source"][
                int(rng.integers(0, len(self.stages["picklists"]["lead_source"])))
            ],
            "IsClosed": False,
            "IsWon": False,
            "Loss_Reason__c": None,
            "Last_Bulk_Update_Plan__c": None,
            "CreatedDate": pd.Timestamp(ts),
            "SystemModstamp": pd.Timestamp(ts),
        }
        i = self.opp.append(row)
        self.opp_arrays.append(
            order=order,
            closed=False,
            close=close_day,
            lad=np.datetime64("NaT", "D"),
            amount=amount,
            opp_stamp=ts,
            opp_deleted=False,
            opp_stale_def=False,
            opp_pastdue_def=False,
            opp_pushed_def=False,
            opp_new=True,
            opp_clean=True,
            pushes=0,
            item_n=0,
            item_last=None,
            item_last_total=np.nan,
            opp_convref=False,
            opp_booked=False,
            opp_who=_text(account.get("first_contact")),
        )
        self.log.append(("Opportunity", row["Id"], "insert", ts))
        if rng.random() < 0.5 or order >= 5:
            self.add_items(i, ts + 1)
        self.activity(i, ts + 2)
        return i

    # ------------------------------------------------------------------ leads
    def new_lead(self, t0: np.datetime64) -> None:
        """A lead created during the day starting at t0; assignment (if any) also falls in the day."""
        rng = self.rng
        rates = self.sim["new_lead_defects"]
        u = rng.random()
        defect, acc = None, 0.0
        for name, rate in rates.items():
            acc += rate
            if u < acc:
                defect = name
                break
        if defect == "lead_duplicate":
            pool = np.flatnonzero(
                ~self.lead_deleted & self.lead_owned & ~self.lead_conv & ~self.lead_flag & ~self.lead_dirty
            )
            if len(pool):
                self.duplicate_lead(int(pool[int(rng.integers(0, len(pool)))]), t0)
                return
            defect = None
        pidx = int(self.meta["next_person_index"])
        cidx = int(self.meta["next_company_index"])
        self.meta["next_person_index"] = str(pidx + 1)
        self.meta["next_company_index"] = str(cidx + 1)
        seed = int(self.meta["seed"])
        first, last = (a[0] for a in names.person_names(np.array([pidx]), seed))
        stem = names.company_stems(np.array([cidx]), seed)[0]
        suffix = ["Inc.", "Ltd", "Corp.", "LLC", "GmbH", "Group", "Labs", "Systems"][int(rng.integers(0, 8))]
        region = self.regions[int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
        seg_i = int(rng.choice(3, p=[0.55, 0.3, 0.15]))
        if defect == "lead_sla_breach" and self.segments[seg_i] == "SMB":
            seg_i = 1  # a 24 h SLA cannot be breached inside one simulated day
        seg = self.segments[seg_i]
        emp = int(
            np.exp(
                np.log([10, 200, 2000][seg_i])
                + rng.random() * (np.log([199, 1999, 60000][seg_i]) - np.log([10, 200, 2000][seg_i]))
            )
        )
        countries = self.terr["regions"][region]
        team = self.team_for[(region, seg)]
        sla_h = float(self.terr["sla"]["assignment_hours"][seg])
        if defect == "lead_sla_breach":
            delay = int((sla_h + rng.uniform(0.5, 22 - sla_h - 0.5)) * 3600)
        else:
            delay = int(rng.uniform(0.05, 0.5) * sla_h * 3600)
        # created, assigned and stamped inside (t0, t0 + 1 day - 10 s]
        created = t0 + int(rng.integers(10, 86390 - delay - 60))
        ts = created + delay + 1
        owner: str | None = self.user_in(team, "SDR")
        if defect == "lead_misrouted":
            others = [t for t in self.team_for.values() if t != team]
            owner = self.user_in(others[int(rng.integers(0, len(others)))], "SDR")
        assigned: Any = created + delay
        if defect == "lead_unassigned":
            owner, assigned = None, pd.NaT
        email = f"{first.lower()}.{last.lower()}@{names.domain_of(stem)}"
        if defect == "lead_invalid_email":
            email = _break_email(email, int(rng.integers(0, 4)))
        row = {
            "Id": self.new_id("Lead"),
            "FirstName": first,
            "LastName": last,
            "Company": f"{stem} {suffix}",
            "Email": email,
            "Phone": f"+1-555-01{int(rng.integers(0, 100)):02d}-{int(rng.integers(0, 10000)):04d}",
            "Country": countries[int(rng.integers(0, len(countries)))],
            "NumberOfEmployees": emp,
            "Region__c": region,
            "Segment__c": seg,
            "LeadSource": self.stages["picklists"]["lead_source"][int(rng.integers(0, 7))],
            "Status": "Open",
            "OwnerId": owner,
            "Assigned_At__c": pd.Timestamp(assigned) if owner else pd.NaT,
            "First_Touch_At__c": pd.NaT,
            "IsConverted": False,
            "ConvertedDate": pd.NaT,
            "ConvertedAccountId": None,
            "ConvertedContactId": None,
            "ConvertedOpportunityId": None,
            "Last_Bulk_Update_Plan__c": None,
            "CreatedDate": pd.Timestamp(created),
            "SystemModstamp": pd.Timestamp(ts),
        }
        self._append_lead(row, ts)
        if rng.random() < 0.3 and len(self.campaigns) and defect is None:
            self.join_campaign(len(self.lead) - 1, ts + 1)

    def _append_lead(self, row: dict[str, Any], ts: np.datetime64) -> None:
        self.lead.append(row)
        self.lead_arrays.append(
            lead_stamp=ts,
            lead_deleted=False,
            lead_owned=not pd.isna(row.get("OwnerId")),
            lead_conv=bool(row.get("IsConverted")),
            lead_flag=False,
            lead_dirty=True,
            lead_campaign=False,
            lead_has_life=False,
            life=None,
        )
        self.log.append(("Lead", row["Id"], "insert", ts))

    def duplicate_lead(self, i: int, ts: np.datetime64) -> None:
        src = self.lead.row(i)
        kinds = [
            "exact",
            "fuzzy:case",
            "fuzzy:punctuation",
            "fuzzy:typo",
            "fuzzy:email_alias",
            "fuzzy:company_suffix",
        ]
        kind = kinds[int(self.rng.integers(0, len(kinds)))]
        rec = dict(src)
        first, last, email = src["FirstName"], src["LastName"], src["Email"]
        local, domain = email.split("@")
        stem, suffix = src["Company"].rsplit(" ", 1)
        if kind == "fuzzy:company_suffix" and suffix not in SUFFIX_LONG:
            kind = "fuzzy:case"
        if kind == "fuzzy:case":
            rec["FirstName"], rec["LastName"], rec["Email"] = first.upper(), last.upper(), email.upper()
        elif kind == "fuzzy:punctuation":
            rec["LastName"] = last[:4] + "-" + last[4:]
            rec["Company"] = src["Company"].replace(" ", ", ", 1).replace(".", "")
        elif kind == "fuzzy:typo":
            rec["LastName"] = _typo(last)
            rec["Email"] = f"{first.lower()}.{rec['LastName'].lower()}@{domain}"
        elif kind == "fuzzy:email_alias":
            rec["Email"] = f"{local}+web@{domain}"
        elif kind == "fuzzy:company_suffix":
            rec["Company"] = f"{stem} {SUFFIX_LONG[suffix]}"
        sla = float(self.terr["sla"]["assignment_hours"][rec["Segment__c"]])
        created = ts + int(self.rng.integers(10, 86390 - int(sla * 0.2 * 3600) - 60))
        ts = created + int(sla * 0.2 * 3600) + 1
        rec.update(
            {
                "Id": self.new_id("Lead"),
                "CreatedDate": pd.Timestamp(created),
                "Assigned_At__c": pd.Timestamp(created + int(sla * 0.2 * 3600)),
                "First_Touch_At__c": pd.NaT,
                "Status": "Open",
                "SystemModstamp": pd.Timestamp(ts),
                "Last_Bulk_Update_Plan__c": None,
            }
        )
        self._append_lead(rec, ts)
        self.new_dups.append(
            {"object": "Lead", "record_id": rec["Id"], "related_id": src["Id"], "detail": kind}
        )
        self.lead_flag[i] = True
        self.lead_flag[len(self.lead) - 1] = True

    def join_campaign(self, i: int, ts: np.datetime64) -> None:
        self.insert(
            "CampaignMember",
            {
                "CampaignId": str(self.campaigns[int(self.rng.integers(0, len(self.campaigns)))]),
                "LeadId": self.lead.at[i, "Id"],
                "ContactId": None,
                "Status": "Sent",
                "HasResponded": False,
                "FirstRespondedDate": pd.NaT,
                "CreatedDate": ts,
                "SystemModstamp": ts,
            },
            ts,
        )
        self.lead_campaign[i] = True

    def lifecycle(self, i: int, frm: str, to: str, ts: np.datetime64) -> None:
        lead_id = self.lead.at[i, "Id"]
        self.insert(
            "LifecycleStageChange", {"LeadId": lead_id, "FromStage": frm, "ToStage": to, "ChangedAt": ts}, ts
        )
        self.life[i] = to
        self.lead_has_life[i] = True

    def convert(self, i: int, ts: np.datetime64) -> None:
        lead = self.lead.row(i)
        stage = self.life[i]
        if stage in (None, "Lead"):
            self.lifecycle(i, "Lead", "MQL", ts - 3)
        if stage in (None, "Lead", "MQL"):
            self.lifecycle(i, "MQL", "SQL", ts - 2)
        team = self.team_for[(lead["Region__c"], lead["Segment__c"])]
        owner = self.user_in(team)
        acc = {
            "Id": self.new_id("Account"),
            "Name": lead["Company"],
            "Website": "www." + lead["Email"].split("@")[1].lower(),
            "Industry": "Software",
            "BillingCountry": lead["Country"],
            "NumberOfEmployees": lead["NumberOfEmployees"],
            "AnnualRevenue": float(round(float(lead["NumberOfEmployees"]) * 150_000, -3)),
            "Region__c": lead["Region__c"],
            "Segment__c": lead["Segment__c"],
            "OwnerId": owner,
            "CreatedDate": ts,
            "SystemModstamp": ts,
        }
        self.insert("Account", acc, ts)
        self.new_account_names.add(acc["Name"])
        contact_id = self.insert(
            "Contact",
            {
                "AccountId": acc["Id"],
                "FirstName": lead["FirstName"],
                "LastName": lead["LastName"],
                "Email": lead["Email"],
                "Phone": lead["Phone"],
                "Title": "Head of RevOps",
                "LeadSource": lead["LeadSource"],
                "OwnerId": owner,
                "CreatedDate": ts,
                "SystemModstamp": ts,
            },
            ts,
        )
        oi = self.new_opportunity(
            ts, account=acc, owner=owner, stage=2, otype="New Business", source=lead["LeadSource"]
        )
        self.lifecycle(i, "SQL", "Opportunity", ts)
        self.lead.at[i, "IsConverted"] = True
        self.lead_conv[i] = True
        self.lead.at[i, "Status"] = "Converted"
        self.lead.at[i, "ConvertedDate"] = pd.Timestamp(ts.astype("datetime64[D]"))
        self.lead.at[i, "ConvertedAccountId"] = acc["Id"]
        self.lead.at[i, "ConvertedContactId"] = contact_id
        self.lead.at[i, "ConvertedOpportunityId"] = self.opp.at[oi, "Id"]
        self.opp_convref[oi] = True  # (its new contact is not in a deletion pool: made by this run)
        self.touch_lead(i, ts + 3)

    # ------------------------------------------------------------------ one day
    def day(self, t0: np.datetime64) -> None:
        """One simulated day, step by step. The steps draw from the seeded random stream in this
        fixed order: reordering them changes the demo data of a given seed."""
        today = (t0 + 86400).astype("datetime64[D]")  # the as-of date at the end of this day
        n = len(self.opp)
        live = ~self.opp_deleted
        self._close_or_push_due(t0, today, live)
        self._activities(t0, today, live, n)
        self._move_clean_deals(t0, today, live, n)
        self._new_deals(t0, live)
        clean_lead, ids, nl = self._lead_day(t0)
        self._deletes(t0, clean_lead, ids, nl)

    def _when(self, t0: np.datetime64, k: int = 1) -> np.ndarray:
        # strictly inside (t0, t1 - 10 s] so follow-up events (+1..+3 s) stay inside the day
        return t0 + self.rng.integers(10, 86390, k)

    def _at(self, t0: np.datetime64) -> np.datetime64:
        """One time in the day, as ``_when(t0)[0]`` (the same draw from the stream, without an array)."""
        return t0 + self.rng.integers(10, 86390)

    def _close_or_push_due(self, t0: np.datetime64, today: np.datetime64, live: np.ndarray) -> None:
        """1. Deals that reach their close date: push (while allowed) or close."""
        rng = self.rng
        open_ = live & ~self.closed
        has_close = ~np.isnat(self.close)
        due = open_ & has_close & (self.close <= today + 1) & ~self.opp_pastdue_def
        for i in np.flatnonzero(due):
            ts = self._at(t0)
            if self.opp_pushed_def[i]:
                self.set_close_date(i, today + int(rng.integers(14, 61)), ts)
            elif self.pushes[i] < self.max_pushes and (not self.opp_clean[i] or rng.random() < 0.45):
                self.set_close_date(i, today + int(rng.integers(14, 61)), ts)
            elif self.opp_clean[i]:
                self.close_deal(
                    i, rng.random() < max(0.2, self.stage_list[self.order[i] - 1]["probability"] / 100), ts
                )
            else:
                self.close_deal(i, False, ts)

    def _activities(self, t0: np.datetime64, today: np.datetime64, live: np.ndarray, n: int) -> None:
        """2. Activity: clean (and non-stale) open deals never go longer than the gap without one."""
        sim = self.sim
        open_ = live & ~self.closed
        gap = int(sim["max_days_between_activities"])
        needs = open_ & ~self.opp_stale_def & (np.isnat(self.lad) | (self.lad <= today - (gap - 1)))
        rand = open_ & ~self.opp_stale_def & (self.rng.random(n) < sim["activity"])
        for i in np.flatnonzero(needs | rand):
            self.activity(i, self._at(t0))

    def _move_clean_deals(self, t0: np.datetime64, today: np.datetime64, live: np.ndarray, n: int) -> None:
        """3. Clean open deals: stage moves, pushes, pull-ins, amount edits, early closes."""
        rng, sim = self.rng, self.sim
        clean_open = live & ~self.closed & self.opp_clean
        u = rng.random(n)
        adv = clean_open & (u < sim["stage_advance"]) & (self.order < 6)
        reg = (
            clean_open
            & (u >= sim["stage_advance"])
            & (u < sim["stage_advance"] + sim["stage_regress"])
            & (self.order > 1)
        )
        for i in np.flatnonzero(adv):
            self.set_stage(i, int(self.order[i]) + 1, self._at(t0))
        for i in np.flatnonzero(reg):
            self.set_stage(i, int(self.order[i]) - 1, self._at(t0))
        u = rng.random(n)
        push = clean_open & (u < sim["close_date_push"]) & (self.pushes < self.max_pushes)
        for i in np.flatnonzero(push):
            self.set_close_date(i, self.close[i] + int(rng.integers(30, 91)), self._at(t0))
        pull = clean_open & (u >= 0.5) & (u < 0.5 + sim["close_date_pull_in"]) & (self.close >= today + 21)
        for i in np.flatnonzero(pull):
            room = int((self.close[i] - (today + 14)).astype(int))
            self.set_close_date(
                i, self.close[i] - int(rng.integers(7, max(8, min(30, room) + 1))), self._at(t0)
            )
        self._edit_amounts(t0, clean_open & (rng.random(n) < sim["amount_edit"]) & (self.amount > 0))
        early = (
            live & ~self.closed & self.opp_clean & (self.order >= 4) & (rng.random(n) < sim["early_close"])
        )
        for i in np.flatnonzero(early):
            self.close_deal(i, rng.random() < 0.6, self._at(t0))

    def _edit_amounts(self, t0: np.datetime64, edit: np.ndarray) -> None:
        """Amount edits of the selected deals (the last line item absorbs the change)."""
        for i in np.flatnonzero(edit):
            new = float(np.round(self.amount[i] * self.rng.uniform(0.85, 1.3), -2))
            delta = new - self.amount[i]
            if new <= 0 or delta == 0 or (self.item_n[i] and self.item_last_total[i] + delta <= 0):
                continue
            ts = self._at(t0)
            self.history(i, "Amount", f"{self.amount[i]:.2f}", f"{new:.2f}", ts)
            self.amount[i] = new
            self.opp.at[i, "Amount"] = new
            if self.item_n[i]:
                self.oli_updates.append({"Id": self.item_last[i], "delta": delta, "ts": ts})
                self.item_last_total[i] += delta
                self.log.append(("OpportunityLineItem", self.item_last[i], "update", ts))
            self.touch_opp(i, ts)

    def _new_deals(self, t0: np.datetime64, live: np.ndarray) -> None:
        """4. New deals, in proportion to the open pipeline."""
        n_open = int((live & ~self.closed).sum())
        k = int(self.rng.poisson(self.sim["new_opportunities_per_1000_open"] * n_open / 1000))
        for ts in np.sort(self._when(t0, k)):
            self.new_opportunity(ts)

    def _lead_day(self, t0: np.datetime64) -> tuple[np.ndarray, np.ndarray, int]:
        """5. Leads: lifecycle, conversions, new leads, campaign joins.

        Returns the clean-lead mask, the lead ids and the lead count as of the start of the step
        (the deletes of step 6 choose among them).
        """
        rng, sim = self.rng, self.sim
        lead = self.lead
        nl = len(lead)
        ok = ~self.lead_deleted & self.lead_owned & ~self.lead_conv
        ids = lead.column("Id")
        clean_lead = ok & ~self.lead_flag
        u = rng.random(nl)
        for i in np.flatnonzero(clean_lead & (u < sim["lead_to_mql"])):
            if self.life[i] is None:
                ts = self._at(t0)
                self.lifecycle(i, "Lead", "MQL", ts)
                lead.at[i, "Status"] = "Working"
                self.touch_lead(i, ts)
        for i in np.flatnonzero(clean_lead & (u >= 0.5) & (u < 0.5 + sim["mql_to_sql"])):
            if self.life[i] == "MQL":
                ts = self._at(t0)
                self.lifecycle(i, "MQL", "SQL", ts)
                lead.at[i, "Status"] = "Qualified"
                self.touch_lead(i, ts)
        conv = np.flatnonzero(clean_lead & (rng.random(nl) < sim["lead_conversion"]))
        lead.prefetch(conv)  # the candidates' Company and, for the converted, the rest of the row
        existing = self._existing_account_names({lead.at[i, "Company"] for i in conv})
        for i in conv:
            company = lead.at[i, "Company"]
            if company in existing or company in self.new_account_names or self.lead_dirty[i]:
                continue
            self.convert(i, self._at(t0))
        for _ in range(int(rng.poisson(sim["new_leads_per_1000_leads"] * nl / 1000))):
            self.new_lead(t0)
        join = clean_lead & (rng.random(nl) < sim["campaign_join"])
        for i in np.flatnonzero(join):
            self.join_campaign(i, self._at(t0))
        return clean_lead, ids, nl

    def _existing_account_names(self, names_: set[Any]) -> set[Any]:
        """Which of these company names an account in the table has."""
        wanted = [n for n in names_ if isinstance(n, str)]
        if not wanted:
            return set()
        self.con.register("_sim_names", pd.DataFrame({"name": pd.Series(wanted, dtype=object)}))
        try:
            return {r[0] for r in self.con.execute(_sql("simulate_existing_names")).fetchall()}
        finally:
            self.con.unregister("_sim_names")

    def _deletes(self, t0: np.datetime64, clean_lead: np.ndarray, ids: np.ndarray, nl: int) -> None:
        """6. A few deletes of clean records nothing else depends on."""
        rng, sim = self.rng, self.sim
        ts_del = self._at(t0)
        n = len(self.opp)
        live = ~self.opp_deleted
        doomed: list[int] = []
        for i in np.flatnonzero(
            live & ~self.closed & self.opp_clean & ~self.opp_new & (rng.random(n) < sim["delete_opportunity"])
        ):
            # not touched by this run, not a lead conversion's deal, not booked
            if not np.isnat(self.opp_stamp[i]) or self.opp_convref[i] or self.opp_booked[i]:
                continue
            doomed.append(i)
        self.delete_opportunities(doomed, ts_del)
        for i in np.flatnonzero(clean_lead & (rng.random(nl) < sim["delete_lead"])):
            if self.lead_dirty[i] or self.lead_campaign[i] or self.lead_has_life[i]:
                continue
            self.lead_deleted[i] = True
            self.deletes.append(("Lead", ids[i], ts_del))
        self.pending_contact_deletes(ts_del)
        self.pending_task_deletes(ts_del)

    def delete_opportunities(self, idx: list[int], ts: np.datetime64) -> None:
        """Delete these deals. Salesforce cascades: line items and activities of a deal go with it.

        One query per child object for all of them, children in table order (a query per deal
        scanned the 1.5 M-row Task table once per deal).
        """
        if not idx:
            return
        oids = [self.opp.at[i, "Id"] for i in idx]
        cascade = (("OpportunityLineItem", "OpportunityId"), ("Task", "WhatId"), ("Event", "WhatId"))
        children: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.con.register("_sim_doomed", pd.DataFrame({"oid": pd.Series(oids, dtype=object)}))
        try:
            for api, col in cascade:
                for oid, cid in self.con.execute(
                    _sql("simulate_cascade_children", sim_table=q(api), sim_parent=q(col))
                ).fetchall():
                    children[(api, oid)].append(cid)
        finally:
            self.con.unregister("_sim_doomed")
        for i, oid in zip(idx, oids, strict=True):
            self.opp_deleted[i] = True
            self.deletes.append(("Opportunity", oid, ts))
            for api, _ in cascade:
                for cid in children.get((api, oid), []):
                    self.deletes.append((api, cid, ts))

    def _pool(self, name: str) -> _Pool:
        if name not in self.pools:
            self.pools[name] = _Pool(self.con, f"simulate_{name}_pool", f"_sim_{name}_pool")
        return self.pools[name]

    def pending_contact_deletes(self, ts: np.datetime64) -> None:
        """Contacts nothing depends on (include/sql/demo/simulate_contact_pool.sql), not yet deleted."""
        k = int(self.rng.poisson(self.sim["delete_contact"] * self.n_contacts))
        if k == 0:
            return
        pool = self._pool("contact")
        m = len(pool)
        if not m:
            return
        picked = pool.pick(list(self.rng.choice(m, size=min(k, m), replace=False)))
        for cid in picked:
            self.contact_deleted.add(cid)
            self.deletes.append(("Contact", cid, ts))
        pool.remove(picked)

    def pending_task_deletes(self, ts: np.datetime64) -> None:
        """Tasks that are not the latest activity of their deal (LastActivityDate stays true), not
        deleted by this run (a deal's delete takes its tasks with it)."""
        k = int(self.rng.poisson(self.sim["delete_task"] * self.n_tasks))
        if k == 0:
            return
        pool = self._pool("task")
        pool.remove([rid for api, rid, _ in self.deletes if api == "Task"])
        m = len(pool)
        if not m:
            return
        picked = pool.pick(list(self.rng.choice(m, size=min(k, m), replace=False)))
        for tid in picked:
            self.deletes.append(("Task", tid, ts))
        pool.remove(picked)

    # ------------------------------------------------------------------ run and write
    def run(self) -> dict[str, Any]:
        t = np.datetime64(self.clock, "s")
        for _ in range(self.days):
            self.day(t)
            t = t + 86400
        new_clock = t
        self.write(new_clock)
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for obj, _rid, kind, _ts in self.log_final:
            counts[obj][kind] += 1
        return {
            "clock_from": self.clock.isoformat(),
            "clock_to": pd.Timestamp(new_clock).to_pydatetime().isoformat(),
            "days": self.days,
            "changes": {k: dict(v) for k, v in sorted(counts.items())},
        }

    def write(self, new_clock: np.datetime64) -> None:
        con = self.con
        deleted_ids = {d[1] for d in self.deletes}
        # drop events on records deleted later in the same run (they are simply gone)
        self.log_final = [e for e in self.log if e[1] not in deleted_ids]
        self.log_final += [(api, rid, "delete", ts) for api, rid, ts in self.deletes]
        # stable sort on (time, object, id) like list.sort with that key; comparing numpy datetime
        # scalars in a Python key took minutes for a million changes
        order = pd.DataFrame(
            {
                "t": np.array([e[3] for e in self.log_final], dtype="datetime64[us]"),
                "o": pd.Series([e[0] for e in self.log_final], dtype=object),
                "r": pd.Series([e[1] for e in self.log_final], dtype=object),
            }
        ).sort_values(["t", "o", "r"], kind="stable")
        self.log_final = [self.log_final[k] for k in order.index.to_numpy()]

        # only the touched rows are written back: the cells the run wrote, stamped with the latest change
        for api, rows, stamp, deleted in (
            ("Opportunity", self.opp, self.opp_stamp, self.opp_deleted),
            ("Lead", self.lead, self.lead_stamp, self.lead_deleted),
        ):
            dirty = ~np.isnat(stamp) & ~deleted
            self._update(api, rows, dirty[: rows.n0], stamp[: rows.n0])
            app = rows.appended_frame(dirty)
            app["SystemModstamp"] = stamp[rows.n0 :][dirty[rows.n0 :]].astype("datetime64[us]")
            self._insert(api, app)
        self.opp = self.lead = None  # type: ignore[assignment]  # free before the inserts are framed
        for api in list(self.inserts):
            rows = [r for r in self.inserts.pop(api) if r["Id"] not in deleted_ids]
            if rows:
                self._insert(api, pd.DataFrame(rows))
        if self.oli_updates:
            upd = (
                pd.DataFrame(self.oli_updates)
                .groupby("Id")
                .agg(delta=("delta", "sum"), ts=("ts", "max"))
                .reset_index()
            )
            upd["ts"] = upd["ts"].astype("datetime64[us]")
            con.register("_sim_items", upd)
            con.execute(_sql("simulate_update_line_items"))
            con.unregister("_sim_items")
        if self.deletes:
            dele = pd.DataFrame(self.deletes, columns=["api_name", "Id", "deleted_at"])
            dele["deleted_at"] = dele["deleted_at"].astype("datetime64[us]")
            con.register("_sim_deletes", dele)
            for api in dele["api_name"].unique():
                con.execute(_sql("simulate_delete_rows", sim_table=q(api)), [api])
            con.execute(_sql("simulate_insert_deleted_records"))
            con.unregister("_sim_deletes")
        if self.new_dups:
            con.register("_sim_dups", pd.DataFrame(self.new_dups))
            con.execute(_sql("simulate_insert_dup_pairs"))
            con.unregister("_sim_dups")
        seq0 = con.execute(_sql("simulate_max_seq")).fetchall()[0][0]
        if self.log_final:
            log = pd.DataFrame(self.log_final, columns=["object", "record_id", "change_type", "changed_at"])
            log["changed_at"] = log["changed_at"].astype("datetime64[us]")
            log.insert(0, "seq", np.arange(seq0 + 1, seq0 + 1 + len(log)))
            log["origin"] = ORIGIN
            con.register("_sim_log", log)
            con.execute(_sql("simulate_insert_change_log"))
            con.unregister("_sim_log")
        self.meta["clock"] = pd.Timestamp(new_clock).to_pydatetime().isoformat()
        for k, v in self.meta.items():
            con.execute(_sql("simulate_upsert_meta"), [k, v])
        if self.pools:
            con.execute(_sql("simulate_drop_pools"))

    def _update(self, api: str, rows: Rows, dirty: np.ndarray, stamp: np.ndarray) -> None:
        """Update the written cells and SystemModstamp of the dirty loaded rows."""
        if not dirty.any():
            return
        written, frame = rows.updates(dirty)
        frame["SystemModstamp"] = stamp[dirty].astype("datetime64[us]")
        columns = [{"name": q(c), "type": rows.schema[c], "flag": f"w_{n}"} for n, c in enumerate(written)]
        self.con.register("_sim_rows", frame)
        try:
            self.con.execute(_sql("simulate_update_rows", sim_table=q(api), sim_columns=columns))
        finally:
            self.con.unregister("_sim_rows")

    def _insert(self, api: str, df: pd.DataFrame) -> None:
        """Insert new records (their ids are fresh: ``new_id``)."""
        if df.empty:
            return
        cols = set(self._schema(api))
        df = df[[c for c in df.columns if c in cols]].copy()
        for c in df.columns:
            if df[c].dtype.kind == "M":
                df[c] = df[c].astype("datetime64[us]")
        self.con.register("_sim_rows", df)
        try:
            self.con.execute(_sql("simulate_insert_rows", sim_table=q(api)))
        finally:
            self.con.unregister("_sim_rows")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def advance(
    con: duckdb.DuckDBPyConnection, meta: dict[str, str], days: int, seed: int | None
) -> dict[str, Any]:
    """Simulate ``days`` days on an open connection (inside the caller's transaction)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    return Simulator(con, meta, days, seed).run()


__all__ = ["advance", "timedelta"]
