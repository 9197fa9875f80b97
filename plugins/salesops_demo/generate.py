"""Seed the demo CRM: a synthetic B2B SaaS company with injected, exactly known defects.

Generation is vectorised with numpy (one seeded ``Generator``), so 1,000,000 opportunities take
about a minute. Memory stays bounded (~2.5 GB peak at 1M): the strings of the big tables are
built as Arrow arrays from byte matrices instead of Python objects, and every table is spilled to
disk as soon as it is final (see :class:`SpilledTables`). Every record is either clean for every hygiene rule or carries exactly the
one defect it was chosen for; ``rules.py`` then derives the ground truth from the data with the
same rules a quality job applies, and the tests check that the two agree.
"""

from __future__ import annotations

import ctypes
import gc
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesops.config import load_yaml, policy
from salesops_demo import calendar as cal
from salesops_demo import names
from salesops_demo.calendar import DAY, HOUR, SEC, d64, s64

# Salesforce key prefixes; ids are prefix + 'DM' + 13 digits (18 characters, sortable).
PREFIX = {
    "User": "005",
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "OpportunityLineItem": "00k",
    "OpportunityFieldHistory": "017",
    "Task": "00T",
    "Event": "00U",
    "ForecastingQuota": "0J9",
    "Campaign": "701",
    "CampaignMember": "00v",
    "LifecycleStageChange": "a0L",
    "FinanceBooking": "a1B",
}

PRODUCTS = [  # code, name, list price (USD per unit)
    ("DM-PLAT", "Demo Platform License", 1200.0),
    ("DM-SEAT", "Demo User Seat", 240.0),
    ("DM-ANLY", "Demo Analytics Add-on", 600.0),
    ("DM-INTG", "Demo Integration Pack", 3000.0),
    ("DM-SUPP", "Demo Premium Support", 1800.0),
    ("DM-TRNG", "Demo Training Day", 2500.0),
    ("DM-SBOX", "Demo Sandbox", 900.0),
    ("DM-ONBD", "Demo Onboarding Service", 5000.0),
]
LEGAL_SUFFIXES = ["Inc.", "Ltd", "Corp.", "LLC", "GmbH", "Group", "Labs", "Systems"]
SUFFIX_LONG = {"Inc.": "Incorporated", "Ltd": "Limited", "Corp.": "Corporation"}
INDUSTRIES = [
    "Software",
    "Manufacturing",
    "Financial Services",
    "Healthcare",
    "Retail",
    "Education",
    "Media",
    "Logistics",
    "Energy",
    "Telecommunications",
]
TITLES = [
    "VP Sales",
    "Head of RevOps",
    "CFO",
    "IT Director",
    "Procurement Manager",
    "COO",
    "Marketing Director",
    "Data Engineer",
    "Operations Analyst",
    "CTO",
]
NEXT_STEPS = [
    "Schedule discovery call",
    "Send proposal",
    "Security review",
    "Demo for stakeholders",
    "Confirm budget",
    "Legal review of MSA",
    "Pricing call with CFO",
    "Technical deep dive",
    "Agree mutual close plan",
    "Reference call",
]
TASK_SUBJECTS = {
    "Call": ["Discovery call", "Follow-up call", "Pricing call"],
    "Email": ["Sent proposal", "Follow-up email", "Shared case study"],
}
EVENT_SUBJECTS = ["Demo meeting", "On-site workshop", "Executive briefing", "Technical review"]
CAMPAIGN_TYPES = ["Webinar", "Trade Show", "Email", "Paid Search", "Content Syndication", "Partner"]
INVALID_TYPES = ["New Biz", "Upsell", "Renewal (auto)"]
INVALID_LEAD_SOURCES = ["Webinar", "Trade Show", "Cold Call"]
OTHER_LEAD_STATUSES = ["Working", "Nurturing", "Unqualified"]

MONEY_MALFORMS = ["12,5OO.00", "1O,000.00", "$45k", "n/a"]
DATE_MALFORMS = ["2026-13-45", "31/12/2026", "next quarter"]
TS_MALFORMS = ["yesterday", "2026-02-30T25:61:00", "TBD"]


def demo_config() -> dict[str, Any]:
    return load_yaml("demo.yaml")


def resolve_size(size: str | int) -> int:
    """'small'|'medium'|'large' or a positive int -> number of opportunities."""
    sizes = demo_config()["sizes"]
    if isinstance(size, str) and not size.isdigit():
        if size not in sizes:
            raise ValueError(f"unknown demo size {size!r}; use one of {sorted(sizes)} or a number")
        return int(sizes[size])
    n = int(size)
    if not 10 <= n <= 2_000_000:
        raise ValueError(f"demo size must be between 10 and 2,000,000 opportunities, got {n}")
    return n


def make_ids(api_name: str, start: int, n: int, tag: str = "DM") -> np.ndarray:
    prefix = PREFIX[api_name] + tag
    return np.array([f"{prefix}{i:013d}" for i in range(start, start + n)], dtype=object)


def id_number(record_id: str) -> int:
    return int(record_id[5:])


# Big tables are built as Arrow string arrays straight from byte matrices: a million Python str
# objects cost ~70 MB each column, the same text in Arrow ~20 MB. Every synthetic string of the
# big tables (ids, names, e-mails, phones) has a fixed width, so a row is a slice of an (n, width)
# uint8 matrix and the matrix *is* the Arrow data buffer.
_SYL_BYTES = np.frombuffer("".join(names.SYLLABLES).encode("ascii"), dtype=np.uint8).reshape(-1, 2)
_CHUNK = 1_000_000
# Spilled tables are cut into record batches of exactly one DuckDB row group: the parallel load
# then fills whole row groups (other sizes leave partial groups that are rewritten, and the
# file keeps the freed blocks: ~40% larger at 1M).
_SPILL_BATCH_ROWS = 122_880


def _fixed(text: str, n: int) -> np.ndarray:
    """A constant ASCII text as an (n, len(text)) byte matrix (a broadcast view, no copy)."""
    return np.broadcast_to(np.frombuffer(text.encode("ascii"), dtype=np.uint8), (n, len(text)))


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative ints as an (n, width) matrix: f"{v:0{width}d}"."""
    v = np.array(values, dtype=np.int64)
    out = np.empty((len(v), width), dtype=np.uint8)
    for k in range(width - 1, -1, -1):
        out[:, k] = v % 10 + ord("0")
        v //= 10
    return out


def _strings(mat: np.ndarray) -> pa.Array:
    """An (n, width) ASCII byte matrix as an Arrow string array, one row per string."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, width = mat.shape
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(mat)])


def arrow_ids(
    api_name: str, numbers: np.ndarray, tag: str = "DM", valid: np.ndarray | None = None
) -> pa.Array:
    """Ids like :func:`make_ids` for the given record numbers, as Arrow (null where ``valid`` is False)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    ids = _strings(
        np.concatenate([_fixed(PREFIX[api_name] + tag, len(numbers)), _digits(numbers, 13)], axis=1)
    )
    return ids if valid is None else _null_unless(ids, valid)


def _null_unless(values: pa.Array, valid: np.ndarray) -> pa.Array:
    """``values`` with null where ``valid`` is False."""
    return pc.if_else(pa.array(np.asarray(valid, dtype=bool)), values, pa.scalar(None, values.type))


def _vocab(values: list[str], index: np.ndarray) -> pa.Array:
    """values[index] as Arrow (the few distinct strings of a picklist-like column)."""
    return pa.array(values, pa.large_string()).take(pa.array(np.asarray(index, dtype=np.int64)))


def _letters(index: np.ndarray, salt: int) -> np.ndarray:
    """The 7 syllables of names.py's codeword per index as an (n, 14) matrix of lower-case letters.

    Person names: first name = letters 0-5, last name = 6-13 (``names.person_names``); company
    stems (salt + 7): 'Xxxxxx Yyyyyyyy' from the same split (``names.company_stems``).
    """
    index = np.asarray(index, dtype=np.int64)
    out = np.empty((len(index), 14), dtype=np.uint8)
    for a in range(0, len(index), _CHUNK):
        # names.py's own codeword map, so the text is exactly person_names'/company_stems'.
        syl = names._codewords(index[a : a + _CHUNK], salt)
        out[a : a + len(syl)] = _SYL_BYTES[syl].reshape(len(syl), 14)
    return out


def _cap(letters: np.ndarray) -> np.ndarray:
    """Upper-case the first letter (str.capitalize on lower-case ASCII)."""
    out = np.array(letters, dtype=np.uint8)
    out[:, 0] -= 32
    return out


def _emails(people: np.ndarray, domain_letters: np.ndarray) -> np.ndarray:
    """'first.last@<company letters>.example' (names.domain_of) for letter matrices."""
    n = len(people)
    return np.concatenate(
        [people[:, :6], _fixed(".", n), people[:, 6:], _fixed("@", n), domain_letters, _fixed(".example", n)],
        axis=1,
    )


def _str_series(values: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas ``str`` column (Arrow-backed, no Python objects)."""
    return values.to_pandas()


def _arrow_col(values: Any) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    values = np.asarray(values)
    if values.dtype == object:
        return pa.array(values, pa.large_string(), from_pandas=True)
    return pa.array(values, from_pandas=True)  # NaT / NaN -> null, like the pandas path


def _table(columns: dict[str, Any]) -> pa.Table:
    return pa.table({k: _arrow_col(v) for k, v in columns.items()})


class SpilledTables(Mapping[str, pa.Table]):
    """Finished object tables parked on disk (Arrow IPC) until the store loads them one at a time.

    The generator writes each table as soon as it is final and drops it, so a 1M seed never holds
    every table in memory at once; ``[name]`` memory-maps the file back (no copy). The directory
    goes away with this object.
    """

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="salesops-demo-"))
        self._names: list[str] = []
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._dir), True)

    def put(self, name: str, table: pa.Table) -> None:
        with pa.OSFile(str(self._dir / f"{name}.arrow"), "wb") as sink:
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table, max_chunksize=_SPILL_BATCH_ROWS)
        if name not in self._names:
            self._names.append(name)

    def __getitem__(self, name: str) -> pa.Table:
        if name not in self._names:
            raise KeyError(name)
        return pa.ipc.open_file(pa.memory_map(str(self._dir / f"{name}.arrow"))).read_all()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)


@dataclass
class Tables:
    """Generated tables (Arrow, spilled to disk) plus the bookkeeping the store needs."""

    frames: SpilledTables
    dup_pairs: pd.DataFrame
    malformed: pd.DataFrame
    injected: pd.DataFrame  # the generator's own record of what it injected (object, record_id, defect)
    meta: dict[str, str]


class _Gen:
    def __init__(self, n_opp: int, seed: int, start: datetime):
        self.n_opp = n_opp
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.cfg = demo_config()
        self.stages = policy("stages")
        self.hyg = policy("hygiene")
        self.terr = policy("territories")
        self.clock = start
        self.now = s64(start)
        self.today = d64(start)
        self.stage_list = self.stages["stages"]
        self.stage_names = np.array([s["name"] for s in self.stage_list], dtype=object)  # by order-1
        self.stage_prob = np.array([s["probability"] for s in self.stage_list], dtype=float)
        self.picklists = self.stages["picklists"]
        self.frames = SpilledTables()
        self.dups: list[dict[str, str]] = []
        self.malformed: list[dict[str, str]] = []

    # ---------------------------------------------------------------- helpers
    def emit(self, name: str, df: pd.DataFrame | pa.Table) -> None:
        """Hand a finished table to the spill store (the caller drops its own reference)."""
        table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
        self.frames.put(name, table)

    def choice(self, values: list[Any], size: int, p: list[float] | None = None) -> np.ndarray:
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr[self.rng.choice(len(values), size=size, p=p)]

    def times_between(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Uniform datetime64[s] in [lo, hi] element-wise (hi >= lo)."""
        span = (hi - lo).astype("timedelta64[s]").astype(np.int64)
        span = np.maximum(span, 0)
        return lo + (self.rng.random(len(lo)) * span).astype(np.int64) * SEC

    def pick(self, pool: np.ndarray, rate: float, minimum: int = 0) -> np.ndarray:
        """Choose round(rate * len(pool)) (at least ``minimum``) distinct members of ``pool``."""
        k = min(len(pool), max(minimum, int(round(rate * len(pool)))))
        if k == 0:
            return np.array([], dtype=np.int64)
        return np.sort(self.rng.choice(pool, size=k, replace=False))

    # ---------------------------------------------------------------- users
    def users(self) -> None:
        vol = self.cfg["volumes"]
        reps = int(
            np.clip(
                round(self.n_opp / vol["opportunities_per_rep"]),
                vol["reps_per_team_min"],
                vol["reps_per_team_max"],
            )
        )
        n_ae = max(1, round(reps * 5 / 7))
        n_sdr = max(1, reps - n_ae)
        rules = self.terr["routing_rules"]
        self.regions = list(self.terr["regions"].keys())
        self.segments = [s["name"] for s in self.terr["segments"]]
        self.team_names = [r["team"] for r in rules]
        self.team_of = np.zeros((len(self.regions), len(self.segments)), dtype=np.int64)
        for t, r in enumerate(rules):
            self.team_of[self.regions.index(r["region"]), self.segments.index(r["segment"])] = t
        rows: list[dict[str, Any]] = []
        rvp_ids = {}
        for region in self.regions:
            rvp_ids[region] = len(rows)
            rows.append(
                {
                    "Name": f"Demo RVP {region}",
                    "UserRole": "Regional VP",
                    "Region__c": region,
                    "Segment__c": None,
                    "Team__c": None,
                    "mgr": None,
                    "email": f"demo.rvp.{region.lower()}",
                }
            )
        self.ae_idx = np.zeros((len(rules), n_ae), dtype=np.int64)
        self.sdr_idx = np.zeros((len(rules), n_sdr), dtype=np.int64)
        rep_no = 0
        for t, r in enumerate(rules):
            mgr = len(rows)
            rows.append(
                {
                    "Name": f"Demo Manager {r['team']}",
                    "UserRole": "Sales Manager",
                    "Region__c": r["region"],
                    "Segment__c": r["segment"],
                    "Team__c": r["team"],
                    "mgr": rvp_ids[r["region"]],
                    "email": f"demo.manager.{r['team'].lower()}",
                }
            )
            for role, count, target in (
                ("Account Executive", n_ae, self.ae_idx),
                ("SDR", n_sdr, self.sdr_idx),
            ):
                for j in range(count):
                    rep_no += 1
                    target[t, j] = len(rows)
                    rows.append(
                        {
                            "Name": f"Demo Rep {rep_no:03d}",
                            "UserRole": role,
                            "Region__c": r["region"],
                            "Segment__c": r["segment"],
                            "Team__c": r["team"],
                            "mgr": mgr,
                            "email": f"demo.rep{rep_no:03d}",
                        }
                    )
        n = len(rows)
        ids = make_ids("User", 1, n)
        df = pd.DataFrame(rows)
        created = self.now - (self.rng.integers(400, 1400, n) * DAY) + self.rng.integers(0, 86400, n) * SEC
        self.users_df = pd.DataFrame(
            {
                "Id": ids,
                "Name": df["Name"].to_numpy(),
                "Email": (df["email"] + "@demo-crm.example").to_numpy(),
                "UserRole": df["UserRole"].to_numpy(),
                "ManagerId": np.array(
                    [None if r["mgr"] is None else ids[r["mgr"]] for r in rows], dtype=object
                ),
                "Region__c": df["Region__c"].to_numpy(),
                "Segment__c": df["Segment__c"].to_numpy(),
                "Team__c": df["Team__c"].to_numpy(),
                "IsActive": np.ones(n, dtype=bool),
                "CreatedDate": created,
                "SystemModstamp": self.times_between(created, np.full(n, self.now - 30 * DAY)),
            }
        )
        self.user_ids = ids
        self.emit("User", self.users_df)

    def owner_in_team(self, team: np.ndarray, role: str = "ae") -> np.ndarray:
        table = self.ae_idx if role == "ae" else self.sdr_idx
        return self.user_ids[table[team, self.rng.integers(0, table.shape[1], len(team))]]

    def employees_for(self, seg: np.ndarray) -> np.ndarray:
        lo = np.array([10, 200, 2000])[seg]
        hi = np.array([199, 1999, 60000])[seg]
        return np.exp(np.log(lo) + self.rng.random(len(seg)) * (np.log(hi) - np.log(lo))).astype(np.int64)

    def countries_for(self, region: np.ndarray) -> np.ndarray:
        out = np.empty(len(region), dtype=object)
        for r, name in enumerate(self.regions):
            m = region == r
            out[m] = self.choice(self.terr["regions"][name], int(m.sum()))
        return out

    # ---------------------------------------------------------------- accounts
    def accounts(self) -> None:
        n = int(round(self.n_opp * self.cfg["volumes"]["accounts"]))
        rng = self.rng
        seg = rng.choice(3, n, p=[0.5, 0.32, 0.18])
        region = rng.choice(3, n, p=[0.5, 0.3, 0.2])
        team = self.team_of[region, seg]
        stems = names.company_stems(np.arange(n), self.seed)
        suffix = self.choice(LEGAL_SUFFIXES, n)
        emp = self.employees_for(seg)
        created = self.now - rng.integers(400, 2000, n) * DAY + rng.integers(0, 86400, n) * SEC
        df = pd.DataFrame(
            {
                "Id": make_ids("Account", 1, n),
                "Name": stems + " " + suffix,
                "Website": np.array(["www." + names.domain_of(s) for s in stems], dtype=object),
                "Industry": self.choice(INDUSTRIES, n),
                "BillingCountry": self.countries_for(region),
                "NumberOfEmployees": emp,
                "AnnualRevenue": np.round(emp * rng.uniform(80_000, 250_000, n), -3),
                "Region__c": np.array(self.regions, dtype=object)[region],
                "Segment__c": np.array(self.segments, dtype=object)[seg],
                "OwnerId": self.owner_in_team(team),
                "CreatedDate": created,
                "SystemModstamp": self.times_between(created, np.full(n, self.now - DAY)),
            }
        )
        self.acc = df
        self.acc_seg, self.acc_region, self.acc_team, self.acc_stem = seg, region, team, stems
        self.acc_suffix = suffix
        self.n_acc = n

    def account_duplicates(self) -> pd.DataFrame:
        rate = self.cfg["defects"]["Account"]["account_duplicate"]
        orig = self.pick(np.arange(self.n_acc), rate)
        kinds = ["exact", "fuzzy:case", "fuzzy:punctuation", "fuzzy:typo", "fuzzy:company_suffix"]
        rows = []
        start = self.n_acc + 1
        for j, i in enumerate(orig):
            kind = kinds[j % len(kinds)]
            stem, suffix = self.acc_stem[i], self.acc_suffix[i]
            if kind == "fuzzy:company_suffix" and suffix not in SUFFIX_LONG:
                kind = "fuzzy:typo"  # only Inc./Ltd/Corp. have a long form
            name = _mutate_company(stem, suffix, kind)
            src = self.acc.iloc[i]
            created = src["CreatedDate"] + np.timedelta64(int(self.rng.integers(30, 300)), "D")
            created = min(created, self.now - 2 * DAY)
            rows.append(
                {
                    **src.to_dict(),
                    "Id": f"{PREFIX['Account']}DM{start + j:013d}",
                    "Name": name,
                    "CreatedDate": created,
                    "SystemModstamp": created + HOUR,
                }
            )
            self.dups.append(
                {"object": "Account", "record_id": rows[-1]["Id"], "related_id": src["Id"], "detail": kind}
            )
        return pd.DataFrame(rows, columns=self.acc.columns)

    # ---------------------------------------------------------------- opportunities
    def opportunities(self) -> None:
        n, rng, cfg = self.n_opp, self.rng, self.cfg["opportunities"]
        acc = rng.integers(0, self.n_acc, n)
        seg, team = self.acc_seg[acc], self.acc_team[acc]
        is_open = rng.random(n) < cfg["open_share"]
        won = ~is_open & (rng.random(n) < cfg["win_rate"])
        order = np.where(is_open, rng.choice(6, n, p=cfg["open_stage_weights"]) + 1, np.where(won, 7, 8))
        ranges = np.array([cfg["amount_range"][s] for s in self.segments], dtype=float)
        lo, hi = ranges[seg, 0], ranges[seg, 1]
        amount = np.round(np.exp(np.log(lo) + rng.random(n) * (np.log(hi) - np.log(lo))), -2)
        types = list(cfg["type_weights"].keys())
        otype = self.choice(types, n, p=list(cfg["type_weights"].values()))
        lead_source = self.choice(self.picklists["lead_source"], n)

        qs = cal.quarter_start(self.clock.date())
        past_lo = d64(cal.add_quarters(qs, -4))
        future_hi = d64(cal.add_quarters(qs, 3)) - DAY
        closed_days = (self.today - past_lo).astype(np.int64)  # candidates: past_lo .. today-1
        open_days = (future_hi - self.today).astype(np.int64)  # today+1 .. future_hi
        close = np.where(
            is_open,
            self.today + (1 + rng.integers(0, open_days, n)) * DAY,
            past_lo + rng.integers(0, closed_days, n) * DAY,
        )
        cycle = np.array([[20, 90], [45, 150], [90, 300]])[seg]
        cycle_days = rng.integers(cycle[:, 0], cycle[:, 1] + 1)
        created_day = close - cycle_days * DAY
        created_day = np.where(
            is_open,
            np.minimum(created_day, self.today - rng.integers(1, 120, n) * DAY),
            np.minimum(created_day, close - DAY),
        )
        created = created_day.astype("datetime64[s]") + rng.integers(8 * 3600, 20 * 3600, n) * SEC
        created = np.minimum(created, self.now - 12 * HOUR)

        fc_allowed = [s["forecast_categories"] for s in self.stage_list]
        fc = np.empty(n, dtype=object)
        alt = rng.random(n) < 0.2
        for o in range(1, 9):
            m = order == o
            allowed = fc_allowed[o - 1]
            fc[m] = allowed[0]
            if len(allowed) > 1:
                m2 = m & alt
                fc[m2] = self.choice(allowed[1:], int(m2.sum()))
        next_step = self.choice(NEXT_STEPS, n)
        drop_ns = np.where(is_open, (order == 1) & (rng.random(n) < 0.5), rng.random(n) < 0.5)
        next_step[drop_ns] = None
        loss = np.where(order == 8, self.choice(self.picklists["loss_reason"], n), None)

        self.o = {
            "acc": acc,
            "seg": seg,
            "team": team,
            "open": is_open,
            "won": won,
            "order": order,
            "amount": amount.astype(object),
            "type": otype,
            "lead_source": lead_source,
            "close": close,
            "created": created,
            "fc": fc,
            "next_step": next_step,
            "loss": loss,
            "account_id": self.acc["Id"].to_numpy()[acc].copy(),
            "owner_id": self.owner_in_team(team),
            "defect": np.full(n, None, dtype=object),
            "detail": np.full(n, None, dtype=object),
            "pushes": rng.choice(3, n, p=[0.6, 0.28, 0.12]),
            # Products: always from Proposal on and on won deals, often earlier, half of lost deals.
            "has_items": np.where(order == 8, rng.random(n) < 0.5, (order >= 5) | (rng.random(n) < 0.6)),
        }
        self.inject_opportunity_defects()

    def inject_opportunity_defects(self) -> None:
        o, rng = self.o, self.rng
        n = self.n_opp
        rates = self.cfg["defects"]["Opportunity"]
        idx = np.arange(n)

        def free(mask: np.ndarray) -> np.ndarray:
            return idx[mask & _none(o["defect"])]

        def mark(chosen: np.ndarray, name: str) -> None:
            o["defect"][chosen] = name

        # Missing required field: the field must be required at the record's stage and its
        # absence must not trip another rule (e.g. no missing Amount on won deals: bookings).
        chosen = self.pick(free(np.ones(n, bool)), rates["opp_missing_required_field"])
        mark(chosen, "opp_missing_required_field")
        for i in chosen:
            order = o["order"][i]
            if order <= 4 and o["open"][i]:
                options = ["AccountId", "OwnerId", "CloseDate", "Type"] + (["Amount"] if order >= 2 else [])
            elif o["open"][i]:
                options = ["AccountId", "OwnerId", "CloseDate", "Type", "Products"]
            elif order == 7:
                options = ["OwnerId", "Type", "Products"]
            else:
                options = ["OwnerId", "Type", "Loss_Reason__c"]
            f = options[int(rng.integers(0, len(options)))]
            o["detail"][i] = f
            if f == "AccountId":
                o["account_id"][i] = None
            elif f == "OwnerId":
                o["owner_id"][i] = None
            elif f == "CloseDate":
                o["close"][i] = np.datetime64("NaT")
                o["pushes"][i] = 0
            elif f == "Type":
                o["type"][i] = None
            elif f == "Amount":
                o["amount"][i] = None
                o["has_items"][i] = False
            elif f == "Products":
                o["has_items"][i] = False
            elif f == "Loss_Reason__c":
                o["loss"][i] = None

        chosen = self.pick(free(o["open"]), rates["opp_past_close_date"])
        mark(chosen, "opp_past_close_date")
        o["close"][chosen] = self.today - rng.integers(3, 60, len(chosen)) * DAY
        o["created"][chosen] = np.minimum(
            o["created"][chosen], (o["close"][chosen] - 20 * DAY).astype("datetime64[s]") + 10 * HOUR
        )

        chosen = self.pick(free(np.ones(n, bool)), rates["opp_close_date_pushed"])
        mark(chosen, "opp_close_date_pushed")
        o["pushes"][chosen] = self.hyg["close_date"]["max_pushes"] + rng.integers(1, 4, len(chosen))

        chosen = self.pick(free(np.ones(n, bool)), rates["opp_forecast_category_mismatch"])
        mark(chosen, "opp_forecast_category_mismatch")
        all_fc = self.stages["forecast_categories"]
        for i in chosen:
            allowed = self.stage_list[o["order"][i] - 1]["forecast_categories"]
            wrong = [c for c in all_fc if c not in allowed]
            o["fc"][i] = wrong[int(rng.integers(0, len(wrong)))]
            o["detail"][i] = o["fc"][i]

        chosen = self.pick(free(o["open"]), rates["opp_stale"])
        mark(chosen, "opp_stale")

        chosen = self.pick(
            free(o["open"] & (o["order"] >= self.hyg["next_step"]["required_from_stage_order"])),
            rates["opp_missing_next_step"],
        )
        mark(chosen, "opp_missing_next_step")
        o["next_step"][chosen] = np.where(rng.random(len(chosen)) < 0.3, " ", None)

        chosen = self.pick(free(o["open"] & (o["order"] <= 4)), rates["opp_amount_invalid"])
        mark(chosen, "opp_amount_invalid")
        amt = self.hyg["amount"]
        for j, i in enumerate(chosen):
            if j % 2 == 0:
                o["amount"][i] = 0.0 if j % 4 == 0 else -float(o["amount"][i])
                o["detail"][i] = "non_positive"
            else:
                o["amount"][i] = float(amt["outlier_max"]) * 2 + float(o["amount"][i])
                o["detail"][i] = "outlier"
            o["has_items"][i] = False

        chosen = self.pick(free(np.ones(n, bool)), rates["opp_invalid_picklist"])
        mark(chosen, "opp_invalid_picklist")
        for j, i in enumerate(chosen):
            if j % 2 == 0:
                o["type"][i] = INVALID_TYPES[j // 2 % len(INVALID_TYPES)]
                o["detail"][i] = "Type"
            else:
                o["lead_source"][i] = INVALID_LEAD_SOURCES[j // 2 % len(INVALID_LEAD_SOURCES)]
                o["detail"][i] = "LeadSource"

        chosen = self.pick(free(o["open"]), rates["opp_orphan_account"])
        mark(chosen, "opp_orphan_account")
        o["account_id"][chosen] = make_ids("Account", 9_000_000_000, len(chosen), tag="ZZ")
        o["detail"][chosen] = "AccountId"
        chosen = self.pick(free(o["open"]), rates["opp_orphan_owner"])
        mark(chosen, "opp_orphan_owner")
        o["owner_id"][chosen] = make_ids("User", 9_000_000_000, len(chosen), tag="ZZ")
        o["detail"][chosen] = "OwnerId"

    # ---------------------------------------------------------------- activities, history, items
    def activities(self) -> None:
        o, rng, n = self.o, self.rng, self.n_opp
        created_day = o["created"].astype("datetime64[D]")
        max_gap = int(self.cfg["simulation"]["max_days_between_activities"])
        last = np.empty(n, dtype="datetime64[D]")
        # clean (and non-stale defective) open: last activity within the last max_gap days
        lo = np.maximum(created_day, self.today - max_gap * DAY)
        span = (self.today - DAY - lo).astype(np.int64)
        last[:] = lo + (rng.random(n) * (span + 1)).astype(np.int64) * DAY
        closed = ~o["open"]
        cl = o["close"][closed]
        back = np.maximum(cl - rng.integers(0, 11, int(closed.sum())) * DAY, created_day[closed])
        last[closed] = back
        stale = o["defect"] == "opp_stale"
        none = stale & (rng.random(n) < 0.35)
        with_act = stale & ~none
        last[with_act] = self.today - rng.integers(45, 151, int(with_act.sum())) * DAY
        o["created"][with_act] = np.minimum(
            o["created"][with_act], (last[with_act] - 10 * DAY).astype("datetime64[s]") + 9 * HOUR
        )
        last[none] = np.datetime64("NaT")
        o["last_activity"] = last

        has = ~none
        k = np.where(has, 1 + rng.poisson(1.2, n), 0)
        opp_i = np.repeat(np.arange(n), k)
        first = np.r_[0, np.cumsum(k)[:-1]]
        pos = np.arange(len(opp_i)) - np.repeat(first, k)
        is_last = pos == np.repeat(k - 1, k)
        c_day = o["created"][opp_i].astype("datetime64[D]")
        l_day = last[opp_i]
        span = (l_day - c_day).astype(np.int64)
        act_day = np.where(
            is_last, l_day, c_day + (rng.random(len(opp_i)) * (span + 1)).astype(np.int64) * DAY
        )
        m = len(opp_i)
        is_event = rng.random(m) < 0.3
        start = act_day.astype("datetime64[s]") + rng.integers(8 * 3600, 18 * 3600, m) * SEC
        # Activities are logged shortly after they happen, never after the clock.
        created = np.minimum(start + rng.integers(60, 4 * 3600, m) * SEC, self.now - SEC)
        created = np.maximum(created, o["created"][opp_i] + SEC)
        acc_i = o["acc"][opp_i]
        # Decided per opportunity, then repeated per activity (same values, 1M comparisons not 2M).
        # WhoId: the account's first contact (contact number = account index + 1) while the deal
        # still points at its account; OwnerId: the deal owner, or the account owner if orphaned.
        acc_ids, acc_owner = self.acc["Id"].to_numpy(), self.acc["OwnerId"].to_numpy()
        acc_ok = o["account_id"] == acc_ids[o["acc"]]
        owner_o = np.where(_isin(o["owner_id"], self.user_ids), o["owner_id"], acc_owner[o["acc"]])
        del acc_ids, acc_owner
        o["activity_created_max"] = _group_max(opp_i, created, n)

        t = ~is_event
        ttype = self.choice(["Call", "Email"], int(t.sum()))
        subj = (ttype == "Email") * 3 + rng.integers(0, 3, len(ttype))
        tables = {
            "Task": (
                t,
                {
                    "Subject": _vocab(TASK_SUBJECTS["Call"] + TASK_SUBJECTS["Email"], subj),
                    "Type": ttype,
                    "Status": _vocab(["Completed"], np.zeros(len(ttype), np.int64)),
                },
            ),
            "Event": (
                is_event,
                {
                    "Subject": self.choice(EVENT_SUBJECTS, int(is_event.sum())),
                    "StartDateTime": start[is_event],
                },
            ),
        }
        for name, (mask, cols) in tables.items():
            # Ids follow (CreatedDate, WhatId); WhatId text order = opportunity number order.
            rows = np.flatnonzero(mask)
            order = np.lexsort((opp_i[rows], created[rows]))
            pos, rows = pa.array(order), rows[order]
            self.emit(
                name,
                _table(
                    {
                        "Id": arrow_ids(name, np.arange(1, len(rows) + 1)),
                        "WhatId": arrow_ids("Opportunity", opp_i[rows] + 1),
                        "WhoId": arrow_ids("Contact", acc_i[rows] + 1, valid=acc_ok[opp_i[rows]]),
                        "OwnerId": owner_o[opp_i[rows]],
                        **{k: _arrow_col(v).take(pos) for k, v in cols.items()},
                        "ActivityDate": act_day[rows],
                        "CreatedDate": created[rows],
                        "SystemModstamp": created[rows],
                    }
                ),
            )

    def history(self) -> None:
        o, rng, n = self.o, self.rng, self.n_opp
        end = np.where(o["open"], self.now - 2 * HOUR, o["close"].astype("datetime64[s]") + 17 * HOUR)
        end = np.minimum(end, self.now - HOUR)
        start = o["created"] + HOUR
        end = np.maximum(end, start)
        parts = []

        # Stage progression: open at order k -> k-1 moves; won: reached 3..6 then Closed Won;
        # lost: reached 1..5 then Closed Lost.
        reached = np.where(
            o["open"], o["order"], np.where(o["won"], rng.integers(3, 7, n), rng.integers(1, 6, n))
        )
        moves = np.where(o["open"], reached - 1, reached)
        oi = np.repeat(np.arange(n), moves)
        pos = np.arange(len(oi)) - np.repeat(np.r_[0, np.cumsum(moves)[:-1]], moves)
        old_order = pos + 1
        new_order = np.where(o["open"][oi] | (pos + 1 < reached[oi]), pos + 2, o["order"][oi])
        t = self._sorted_times(oi, pos, start, end, moves)
        # The closing move happens on the close date itself.
        closing = ~o["open"][oi] & (pos == moves[oi] - 1)
        t = np.where(closing, end[oi], t)
        stage_names = list(self.stage_names)
        parts.append(
            (oi, "StageName", _vocab(stage_names, old_order - 1), _vocab(stage_names, new_order - 1), t)
        )

        # Close-date changes: `pushes` moves later plus, for some, one earlier pull-in first.
        has_close = ~np.isnat(o["close"])
        pull = has_close & (rng.random(n) < 0.1)
        pushes = np.where(has_close, o["pushes"], 0)
        cnt = pushes + pull
        oi = np.repeat(np.arange(n), cnt)
        pos = np.arange(len(oi)) - np.repeat(np.r_[0, np.cumsum(cnt)[:-1]], cnt)
        is_pull = pull[oi] & (pos == 0)
        delta = np.where(is_pull, -rng.integers(7, 31, len(oi)), rng.integers(14, 61, len(oi)))  # new - old
        # new value of row j = final - sum(delta of later rows); old = new - delta
        rev_cum = _reverse_group_cumsum(oi, delta)  # includes own delta
        new_val = o["close"][oi] - (rev_cum - delta) * DAY
        old_val = new_val - delta * DAY
        t = self._sorted_times(oi, pos, start, end, cnt)
        parts.append((oi, "CloseDate", _fmt_dates(old_val), _fmt_dates(new_val), t))

        # One amount revision for a fifth of the deals with a valid amount.
        amt_ok = np.array(
            [a is not None and a > 0 and a <= self.hyg["amount"]["outlier_max"] for a in o["amount"]]
        )
        rev = np.flatnonzero(amt_ok & (rng.random(n) < 0.2))
        new_amt = np.array([o["amount"][i] for i in rev], dtype=float)
        old_amt = np.round(new_amt * rng.uniform(0.7, 1.3, len(rev)), -2)
        old_amt = np.where(old_amt == new_amt, new_amt + 100, old_amt)
        t = self.times_between(start[rev], end[rev])
        parts.append((rev, "Amount", _fmt_money(old_amt), _fmt_money(new_amt), t))

        # Ids follow (CreatedDate, opportunity, Field); the field codes sort like the names.
        fields = sorted(p[1] for p in parts)
        oi = np.concatenate([p[0] for p in parts])
        code = np.concatenate([np.full(len(p[0]), fields.index(p[1])) for p in parts])
        created = np.concatenate([p[4] for p in parts]).astype("datetime64[s]")
        old = pa.concat_arrays([p[2].cast(pa.large_string()) for p in parts])
        new = pa.concat_arrays([p[3].cast(pa.large_string()) for p in parts])
        del parts
        o["history_max"] = _group_max(oi, created, n)
        order = np.lexsort((code, oi, created))
        pos = pa.array(order)
        self.emit(
            "OpportunityFieldHistory",
            _table(
                {
                    "Id": arrow_ids("OpportunityFieldHistory", np.arange(1, len(oi) + 1)),
                    "OpportunityId": arrow_ids("Opportunity", oi[order] + 1),
                    "Field": _vocab(fields, code[order]),
                    "OldValue": old.take(pos),
                    "NewValue": new.take(pos),
                    "CreatedDate": created[order],
                }
            ),
        )

    def _sorted_times(
        self, oi: np.ndarray, pos: np.ndarray, start: np.ndarray, end: np.ndarray, counts: np.ndarray
    ) -> np.ndarray:
        """Increasing timestamps per group: the pos-th of k ascending uniform draws in [start, end]."""
        if len(oi) == 0:
            return np.array([], dtype="datetime64[s]")
        u = self.rng.random(len(oi))
        order = np.lexsort((u, oi))
        u_sorted = np.empty_like(u)
        u_sorted[np.lexsort((pos, oi))] = u[order]  # ascending draws assigned in pos order
        span = (end[oi] - start[oi]).astype(np.int64)
        return start[oi] + (u_sorted * span).astype(np.int64) * SEC

    def line_items(self) -> None:
        o, rng, n = self.o, self.rng, self.n_opp
        has = np.array(o["has_items"], dtype=bool)
        k = np.where(has, 1 + (rng.random(n) < 0.5) + (rng.random(n) < 0.2), 0)
        oi = np.repeat(np.arange(n), k)
        pos = np.arange(len(oi)) - np.repeat(np.r_[0, np.cumsum(k)[:-1]], k)
        is_last = pos == k[oi] - 1
        amount_c = np.array([round(float(o["amount"][i]) * 100) for i in np.flatnonzero(has)], dtype=np.int64)
        full_amt = np.zeros(n, dtype=np.int64)
        full_amt[has] = amount_c
        a = full_amt[oi]
        share = rng.uniform(0.1, 0.8, len(oi)) / np.maximum(k[oi] - 1, 1)
        qty = rng.integers(1, 21, len(oi))
        unit = np.floor(a * share / qty).astype(np.int64)
        unit = np.maximum(unit, 1)
        total = unit * qty
        others = _group_sum(oi, np.where(is_last, 0, total), n)
        qty = np.where(is_last, 1, qty)
        unit = np.where(is_last, a - others[oi], unit)
        total = unit * qty
        prod = rng.integers(0, len(PRODUCTS), len(oi))
        created = o["created"][oi] + rng.integers(3600, 5 * 86400, len(oi)) * SEC
        created = np.minimum(created, self.now - HOUR)
        o["items_max"] = _group_max(oi, created, n)
        o["item_count"] = k
        self.emit(
            "OpportunityLineItem",
            _table(
                {
                    "Id": arrow_ids("OpportunityLineItem", np.arange(1, len(oi) + 1)),
                    "OpportunityId": arrow_ids("Opportunity", oi + 1),
                    "ProductCode": _vocab([p[0] for p in PRODUCTS], prod),
                    "Name": _vocab([p[1] for p in PRODUCTS], prod),
                    "Quantity": qty.astype(float),
                    "UnitPrice": unit / 100.0,
                    "TotalPrice": total / 100.0,
                    "CreatedDate": created,
                    "SystemModstamp": created,
                }
            ),
        )

    def finish_opportunities(self) -> None:
        o, n, rng = self.o, self.n_opp, self.rng
        stamp = np.maximum.reduce(
            [
                o["created"],
                _nat_to(o["activity_created_max"], o["created"]),
                _nat_to(o["history_max"], o["created"]),
                _nat_to(o["items_max"], o["created"]),
            ]
        )
        stamp = np.minimum(stamp + rng.integers(0, 3600, n) * SEC, self.now - SEC)
        acc_names = self.acc["Name"].to_numpy()[o["acc"]]
        type_txt = np.where(_none(o["type"]), "Deal", o["type"])
        self.opp_df = pd.DataFrame(
            {
                "Id": make_ids("Opportunity", 1, n),
                "Name": acc_names + " - " + type_txt.astype(object),
                "AccountId": o["account_id"],
                "OwnerId": o["owner_id"],
                "StageName": self.stage_names[o["order"] - 1],
                "Amount": np.array([np.nan if a is None else a for a in o["amount"]], dtype=float),
                "Probability": self.stage_prob[o["order"] - 1],
                "CloseDate": o["close"],
                "ForecastCategoryName": o["fc"],
                "NextStep": o["next_step"],
                "LastActivityDate": o["last_activity"],
                "Type": o["type"],
                "LeadSource": o["lead_source"],
                "IsClosed": o["order"] >= 7,
                "IsWon": o["order"] == 7,
                "Loss_Reason__c": o["loss"],
                "Last_Bulk_Update_Plan__c": None,
                "CreatedDate": o["created"],
                "SystemModstamp": stamp,
            }
        )
        self.emit("Opportunity", self.opp_df)

    # ---------------------------------------------------------------- contacts and leads
    def contacts_and_leads(self) -> None:
        rng, o = self.rng, self.o
        n_leads = int(round(self.n_opp * self.cfg["volumes"]["leads"]))
        # Converted leads: clean New Business deals on real accounts.
        eligible = np.flatnonzero(_none(o["defect"]) & (o["type"] == "New Business"))
        n_conv = min(len(eligible), int(round(0.12 * n_leads)))
        conv_opp = np.sort(rng.choice(eligible, n_conv, replace=False))
        self.conv_opp = conv_opp
        n_free = n_leads - n_conv
        n_contacts_target = int(round(self.n_acc * self.cfg["volumes"]["contacts_per_account"]))
        n_other_contacts = max(self.n_acc, n_contacts_target - n_conv)
        # Person i (names.person_names) and account/company stems (names.company_stems) as
        # lower-case letter matrices: names, e-mails and web domains are slices of them.
        people = _letters(np.arange(n_leads + n_other_contacts), self.seed)
        acc_letters = _letters(np.arange(self.n_acc), self.seed + 7)
        self.next_person = n_leads + n_other_contacts
        self.next_company = self.n_acc + n_free

        # ---- contacts (first: one per account in account order, so tasks can name a contact)
        c_acc = np.r_[np.arange(self.n_acc), rng.integers(0, self.n_acc, n_other_contacts - self.n_acc)]
        conv_acc = o["acc"][conv_opp]
        c_people = people[np.r_[n_leads + np.arange(n_other_contacts), np.arange(n_conv)]]
        ca = np.r_[c_acc, conv_acc]
        nc = len(ca)
        acc_created = self.acc["CreatedDate"].to_numpy()[ca]
        c_created = self.times_between(acc_created + DAY, np.full(nc, self.now - DAY))
        conv_created = o["created"][conv_opp] - rng.integers(60, 3600, n_conv) * SEC
        c_created[len(c_acc) :] = conv_created
        contacts = pd.DataFrame(
            {
                "AccountId": _str_series(pa.array(self.acc["Id"]).take(pa.array(ca))),
                "FirstName": _str_series(_strings(_cap(c_people[:, :6]))),
                "LastName": _str_series(_strings(_cap(c_people[:, 6:]))),
                "Email": _str_series(_strings(_emails(c_people, acc_letters[ca]))),
                "Phone": _str_series(_phones(rng, nc)),
                "Title": self.choice(TITLES, nc),
                "LeadSource": self.choice(self.picklists["lead_source"], nc),
                "OwnerId": self.acc["OwnerId"].to_numpy()[ca],
                "CreatedDate": c_created,
            }
        )
        del c_people
        contacts["SystemModstamp"] = np.minimum(
            c_created + rng.integers(0, 30 * 86400, nc) * SEC, self.now - SEC
        )
        contacts.insert(0, "Id", _str_series(arrow_ids("Contact", np.arange(1, nc + 1))))
        # Contact numbers: the first contact of account a is a + 1; converted leads' contacts last.
        self.conv_contact_numbers = np.arange(len(c_acc), nc) + 1
        self.contact_df = contacts
        self.contact_conv_n = n_conv

        # ---- leads
        seg = rng.choice(3, n_free, p=[0.55, 0.3, 0.15])
        region = rng.choice(3, n_free, p=[0.5, 0.3, 0.2])
        stems = _letters(self.n_acc + np.arange(n_free), self.seed + 7)
        suffix = self.choice(LEGAL_SUFFIXES, n_free)
        free_company = pc.binary_join_element_wise(
            _strings(np.concatenate([_cap(stems[:, :6]), _fixed(" ", n_free), _cap(stems[:, 6:])], axis=1)),
            pa.array(suffix, pa.large_string()),
            pa.scalar(" ", pa.large_string()),
        )
        company = pa.concat_arrays(
            [pa.array(self.acc["Name"]).take(pa.array(conv_acc)).cast(pa.large_string()), free_company]
        )
        lead_letters = np.concatenate([acc_letters[conv_acc], stems])
        del stems, acc_letters
        seg_all = np.r_[self.acc_seg[conv_acc], seg]
        region_all = np.r_[self.acc_region[conv_acc], region]
        team = self.team_of[region_all, seg_all]
        country = np.r_[self.acc["BillingCountry"].to_numpy()[conv_acc], self.countries_for(region)]
        emp = np.r_[self.acc["NumberOfEmployees"].to_numpy()[conv_acc], self.employees_for(seg)]
        n = n_leads
        is_conv = np.arange(n) < n_conv
        created = np.where(
            is_conv,
            np.r_[o["created"][conv_opp], np.zeros(n_free, "datetime64[s]")]
            - np.r_[rng.integers(3, 60, n_conv), np.zeros(n_free, np.int64)] * DAY,
            self.now - rng.integers(2, 540, n) * DAY - rng.integers(0, 86400, n) * SEC,
        )
        sla_h = np.array([self.terr["sla"]["assignment_hours"][s] for s in self.segments], dtype=float)[
            seg_all
        ]
        assigned = created + (rng.uniform(0.05, 0.5, n) * sla_h * 3600).astype(np.int64) * SEC
        owner = np.where(rng.random(n) < 0.8, self.owner_in_team(team, "sdr"), self.owner_in_team(team))
        owner[is_conv] = o["owner_id"][conv_opp]
        touched = is_conv | (rng.random(n) < 0.85)
        first_touch = assigned + rng.integers(1800, 72 * 3600, n) * SEC
        first_touch = np.where(touched & (first_touch < self.now - SEC), first_touch, np.datetime64("NaT"))
        lf, ll = _strings(_cap(people[:n, :6])), _strings(_cap(people[:n, 6:]))
        email = _str_series(_strings(_emails(people[:n], lead_letters)))
        del people, lead_letters
        lead_source = self.choice(self.picklists["lead_source"], n)
        lead_source[is_conv] = o["lead_source"][conv_opp]
        self.L = {
            "first": lf,
            "last": ll,
            "company": company,
            "email": email,
            "country": country,
            "emp": emp,
            "seg": seg_all,
            "region": region_all,
            "team": team,
            "owner": owner.astype(object),
            "created": created,
            "assigned": assigned,
            "first_touch": first_touch,
            "is_conv": is_conv,
            "lead_source": lead_source,
            "defect": np.full(n, None, dtype=object),
            "sla_h": sla_h,
        }
        L = self.L
        rates = self.cfg["defects"]["Lead"]
        idx = np.arange(n)

        def free_unconv() -> np.ndarray:
            return idx[~is_conv & _none(L["defect"])]

        ch = self.pick(free_unconv(), rates["lead_unassigned"])
        L["defect"][ch] = "lead_unassigned"
        L["owner"][ch] = None
        L["assigned"][ch] = np.datetime64("NaT")
        L["first_touch"][ch] = np.datetime64("NaT")
        ch = self.pick(free_unconv(), rates["lead_misrouted"])
        L["defect"][ch] = "lead_misrouted"
        wrong_team = (team[ch] + 1 + rng.integers(0, len(self.team_names) - 1, len(ch))) % len(
            self.team_names
        )
        L["owner"][ch] = self.owner_in_team(wrong_team, "sdr")
        ch = self.pick(free_unconv(), rates["lead_sla_breach"])
        L["defect"][ch] = "lead_sla_breach"
        created[ch] = np.minimum(created[ch], self.now - 6 * DAY)
        L["assigned"][ch] = (
            created[ch] + ((sla_h[ch] + rng.uniform(1, 72, len(ch))) * 3600).astype(np.int64) * SEC
        )
        ft = L["assigned"][ch] + rng.integers(1800, 48 * 3600, len(ch)) * SEC
        L["first_touch"][ch] = np.where(ft < self.now - SEC, ft, np.datetime64("NaT"))
        ch = self.pick(free_unconv(), rates["lead_invalid_email"])
        L["defect"][ch] = "lead_invalid_email"
        L["email"].iloc[ch] = [_break_email(e, j) for j, e in enumerate(L["email"].iloc[ch])]

    def lead_frame(self) -> None:
        L, rng, o = self.L, self.rng, self.o
        n = len(L["first"])
        n_conv = self.contact_conv_n
        is_conv = L["is_conv"]
        # Lifecycle: converted leads went Lead -> MQL -> SQL -> Opportunity; others may stop early.
        assigned_ok = L["defect"] != "lead_unassigned"
        mql = is_conv | (assigned_ok & (rng.random(n) < 0.35))
        sql = is_conv | (mql & (rng.random(n) < 0.45))
        conv_opp = self.conv_opp
        conv_at = np.r_[o["created"][conv_opp], np.full(n - n_conv, np.datetime64("NaT"), "datetime64[s]")]
        base = np.where(np.isnat(L["first_touch"]), L["created"], L["first_touch"])
        end = np.where(is_conv, conv_at - 2 * HOUR, self.now - HOUR)
        base = np.minimum(base, end - 2 * HOUR)
        t_mql = self.times_between(base, base + (end - base) // 3)
        t_sql = self.times_between(t_mql + HOUR, np.maximum(t_mql + HOUR, end))
        # Steps Lead->MQL (0), MQL->SQL (1), SQL->Opportunity (2); Ids follow (ChangedAt, LeadId)
        # and LeadId text order = lead number order.
        steps = [(mql, t_mql), (sql, t_sql), (is_conv, conv_at)]
        li = np.concatenate([np.flatnonzero(m) for m, _ in steps])
        step = np.concatenate([np.full(int(m.sum()), k) for k, (m, _) in enumerate(steps)])
        changed = np.concatenate([t[m] for m, t in steps])
        lc_max = _group_max(li, changed, n)
        order = np.lexsort((li, changed))
        self.emit(
            "LifecycleStageChange",
            _table(
                {
                    "Id": arrow_ids("LifecycleStageChange", np.arange(1, len(li) + 1)),
                    "LeadId": arrow_ids("Lead", li[order] + 1),
                    "FromStage": _vocab(["Lead", "MQL", "SQL"], step[order]),
                    "ToStage": _vocab(["MQL", "SQL", "Opportunity"], step[order]),
                    "ChangedAt": changed[order],
                }
            ),
        )
        del li, step, changed, order

        status = self.choice(OTHER_LEAD_STATUSES, n)
        status = np.where(np.isnat(L["first_touch"]), "Open", status)
        status = np.where(mql, "Working", status)
        status = np.where(sql, "Qualified", status)
        status = np.where(is_conv, "Converted", status).astype(object)
        nulls = pa.nulls(n - n_conv, pa.large_string())
        conv_cols = {
            "ConvertedDate": np.r_[
                conv_at[:n_conv].astype("datetime64[D]"),
                np.full(n - n_conv, np.datetime64("NaT"), "datetime64[D]"),
            ],
            "ConvertedAccountId": _str_series(
                pa.concat_arrays(
                    [
                        pa.array(self.acc["Id"]).take(pa.array(o["acc"][conv_opp])).cast(pa.large_string()),
                        nulls,
                    ]
                )
            ),
            "ConvertedContactId": _str_series(
                pa.concat_arrays([arrow_ids("Contact", self.conv_contact_numbers), nulls])
            ),
            "ConvertedOpportunityId": _str_series(
                pa.concat_arrays([arrow_ids("Opportunity", conv_opp + 1), nulls])
            ),
        }
        df = pd.DataFrame(
            {
                "Id": _str_series(arrow_ids("Lead", np.arange(1, n + 1))),
                "FirstName": _str_series(L["first"]),
                "LastName": _str_series(L["last"]),
                "Company": _str_series(L["company"]),
                "Email": L["email"],
                "Phone": _str_series(_phones(rng, n)),
                "Country": L["country"],
                "NumberOfEmployees": L["emp"],
                "Region__c": np.array(self.regions, dtype=object)[L["region"]],
                "Segment__c": np.array(self.segments, dtype=object)[L["seg"]],
                "LeadSource": L["lead_source"],
                "Status": status,
                "OwnerId": L["owner"],
                "Assigned_At__c": L["assigned"],
                "First_Touch_At__c": L["first_touch"],
                "IsConverted": is_conv,
                **conv_cols,
                "Last_Bulk_Update_Plan__c": None,
                "CreatedDate": L["created"],
            }
        )
        stamp = np.maximum.reduce(
            [
                L["created"],
                _nat_to(L["assigned"], L["created"]),
                _nat_to(L["first_touch"], L["created"]),
                _nat_to(lc_max, L["created"]),
            ]
        )
        df["SystemModstamp"] = np.minimum(stamp + rng.integers(0, 3600, n) * SEC, self.now - SEC)
        self.lead_df = df
        self.lead_has_lifecycle = mql

    def duplicates(
        self, api: str, df: pd.DataFrame, pool: np.ndarray, rate: float, kinds: list[str], id_start: int
    ) -> pd.DataFrame:
        """Copies of clean records with a controlled difference, recorded in dup_pairs."""
        orig = self.pick(pool, rate)
        picked = df.iloc[orig].to_dict("records")  # only the selected rows leave Arrow
        rows = []
        for j, src in enumerate(picked):
            kind = kinds[j % len(kinds)]
            rec = dict(src)
            first, last, email = src["FirstName"], src["LastName"], src["Email"]
            local, domain = email.split("@")
            if kind == "fuzzy:case":
                rec["FirstName"], rec["LastName"], rec["Email"] = first.upper(), last.upper(), email.upper()
            elif kind == "fuzzy:punctuation":
                rec["LastName"] = last[:4] + "-" + last[4:]
                if "Company" in rec:
                    rec["Company"] = rec["Company"].replace(" ", ", ", 1).replace(".", "")
            elif kind == "fuzzy:typo":
                rec["LastName"] = _typo(last)
                rec["Email"] = f"{first.lower()}.{rec['LastName'].lower()}@{domain}"
            elif kind == "fuzzy:email_alias":
                rec["Email"] = f"{local}+{['news', 'events', 'trial'][j % 3]}@{domain}"
            elif kind == "fuzzy:company_suffix":
                stem, suffix = rec["Company"].rsplit(" ", 1)
                if suffix in SUFFIX_LONG:
                    rec["Company"] = f"{stem} {SUFFIX_LONG[suffix]}"
                else:  # only Inc./Ltd/Corp. have a long form: fall back to a case variant
                    kind = "fuzzy:case"
                    rec["FirstName"], rec["LastName"], rec["Email"] = (
                        first.upper(),
                        last.upper(),
                        email.upper(),
                    )
            created = min(
                src["CreatedDate"] + np.timedelta64(int(self.rng.integers(1, 60)), "D"), self.now - 2 * DAY
            )
            created = np.datetime64(created, "s")
            rec["CreatedDate"] = created
            if "Assigned_At__c" in rec:
                sla = float(self.terr["sla"]["assignment_hours"][rec["Segment__c"]])
                rec["Assigned_At__c"] = created + int(sla * 0.2 * 3600) * SEC
                rec["First_Touch_At__c"] = created + int(sla * 0.4 * 3600) * SEC
                rec["Status"] = "Working"
            rec["SystemModstamp"] = created + int(self.rng.integers(3600, 86400)) * SEC
            rec["Id"] = f"{PREFIX[api]}DM{id_start + j:013d}"
            rows.append(rec)
            self.dups.append({"object": api, "record_id": rec["Id"], "related_id": src["Id"], "detail": kind})
        return pd.DataFrame(rows, columns=df.columns)

    # ---------------------------------------------------------------- marketing, quotas, finance
    def campaigns(self) -> None:
        rng = self.rng
        nc = max(12, int(round(self.n_opp * self.cfg["volumes"]["campaigns_per_opportunity"])))
        start = self.today - rng.integers(0, 540, nc) * DAY
        end = start + rng.integers(1, 61, nc) * DAY
        ctype = self.choice(CAMPAIGN_TYPES, nc)
        status = np.where(
            end < self.today, "Completed", np.where(start <= self.today, "In Progress", "Planned")
        )
        budget = np.round(rng.uniform(2000, 80000, nc), -2)
        actual = np.where(status == "Completed", np.round(budget * rng.uniform(0.7, 1.2, nc), -2), np.nan)
        created = (start - 30 * DAY).astype("datetime64[s]") + 10 * HOUR
        camp = pd.DataFrame(
            {
                "Id": make_ids("Campaign", 1, nc),
                "Name": [f"Demo Campaign {i + 1:03d} - {t}" for i, t in enumerate(ctype)],
                "Type": ctype,
                "Status": status.astype(object),
                "StartDate": start,
                "EndDate": end,
                "BudgetedCost": budget,
                "ActualCost": actual,
                "CreatedDate": created,
                "SystemModstamp": np.minimum(
                    np.maximum(created, end.astype("datetime64[s]") + 10 * HOUR), self.now - SEC
                ),
            }
        )
        self.emit("Campaign", camp)
        leads, contacts = self.lead_df, self.contact_df
        lm = rng.random(len(leads)) < 0.35
        cm = rng.random(len(contacts)) < 0.1
        who_created = np.r_[leads["CreatedDate"].to_numpy()[lm], contacts["CreatedDate"].to_numpy()[cm]]
        m = len(who_created)
        ci = rng.integers(0, nc, m)
        cstart = start[ci].astype("datetime64[s]")
        created = np.maximum(who_created, cstart) + rng.integers(3600, 14 * 86400, m) * SEC
        created = np.minimum(created, self.now - HOUR)
        responded = rng.random(m) < 0.4
        resp_date = created.astype("datetime64[D]") + rng.integers(0, 6, m) * DAY
        resp_date = np.minimum(resp_date, self.today - DAY)
        resp_date = np.maximum(resp_date, created.astype("datetime64[D]"))
        stamp = np.where(
            responded, np.minimum(resp_date.astype("datetime64[s]") + 15 * HOUR, self.now - SEC), created
        )
        stamp = np.maximum(stamp, created)
        # Members: leads first, then contacts; Ids follow (CreatedDate, CampaignId) and the
        # CampaignId text order = campaign number order.
        n_lm = int(lm.sum())
        member = np.r_[np.flatnonzero(lm), np.flatnonzero(cm)] + 1
        is_lead = np.arange(m) < n_lm
        order = np.lexsort((ci, created))
        member, is_lead = member[order], is_lead[order]
        self.emit(
            "CampaignMember",
            _table(
                {
                    "Id": arrow_ids("CampaignMember", np.arange(1, m + 1)),
                    "CampaignId": arrow_ids("Campaign", ci[order] + 1),
                    "LeadId": arrow_ids("Lead", member, valid=is_lead),
                    "ContactId": arrow_ids("Contact", member, valid=~is_lead),
                    "Status": _vocab(["Sent", "Responded"], responded[order].astype(np.int64)),
                    "HasResponded": responded[order],
                    "FirstRespondedDate": np.where(responded, resp_date, np.datetime64("NaT"))[order],
                    "CreatedDate": created[order],
                    "SystemModstamp": stamp[order],
                }
            ),
        )
        self.lead_in_campaign = lm

    def quotas(self) -> None:
        rng = self.rng
        qs = cal.quarter_start(self.clock.date())
        quarters = [cal.add_quarters(qs, k) for k in range(-4, 3)]
        ae = self.ae_idx.reshape(-1)
        seg = np.repeat(np.arange(len(self.team_names)), self.ae_idx.shape[1])
        seg_name = np.array([self.segments.index(self.terr["routing_rules"][t]["segment"]) for t in seg])
        base = np.array([120_000, 300_000, 900_000], dtype=float)[seg_name]
        rows = []
        for q in quarters:
            amt = np.round(base * rng.uniform(0.85, 1.15, len(ae)), -3)
            set_at = min(s64(datetime(q.year, q.month, q.day)) - 15 * DAY, self.now - 20 * DAY)
            rows.append(
                pd.DataFrame(
                    {
                        "QuotaOwnerId": self.user_ids[ae],
                        "StartDate": np.datetime64(q, "D"),
                        "QuotaAmount": amt,
                        "SystemModstamp": set_at + rng.integers(0, 86400, len(ae)) * SEC,
                    }
                )
            )
        df = pd.concat(rows, ignore_index=True)
        df.insert(0, "Id", make_ids("ForecastingQuota", 1, len(df)))
        self.emit("ForecastingQuota", df)

    def bookings(self) -> None:
        o, rng = self.o, self.rng
        won = np.flatnonzero(o["won"])
        rates = self.cfg["defects"]["FinanceBooking"]
        clean_won = won[_none(o["defect"][won])]
        missing = self.pick(clean_won, rates["booking_missing"])
        mismatch = self.pick(np.setdiff1d(clean_won, missing), rates["booking_amount_mismatch"])
        o["defect"][missing] = "booking_missing"
        o["defect"][mismatch] = "booking_amount_mismatch"
        keep = np.setdiff1d(won, missing)
        amt = np.array([float(o["amount"][i]) for i in keep])
        is_mm = np.isin(keep, mismatch)
        factor = self.choice([0.9, 1.05, 1.2, 0.5], len(keep))
        amt = np.where(is_mm, np.round(amt * factor.astype(float), -2), amt)
        amt = np.where(is_mm & (amt == np.array([float(o["amount"][i]) for i in keep])), amt + 1000, amt)
        opp_ids = make_ids("Opportunity", 1, self.n_opp)
        btype = np.where(
            _isin(o["type"][keep], self.picklists["opportunity_type"]), o["type"][keep], "New Business"
        )
        bdate = o["close"][keep]
        stamp = np.minimum(
            bdate.astype("datetime64[s]") + DAY + rng.integers(3600, 20 * 3600, len(keep)) * SEC,
            self.now - SEC,
        )
        df = pd.DataFrame(
            {
                "OpportunityId": opp_ids[keep],
                "AccountId": o["account_id"][keep],
                "BookingDate": bdate,
                "Amount": amt,
                "BookingType": btype.astype(object),
                "SystemModstamp": stamp,
            }
        )
        n_orphan = max(1, int(round(rates["booking_orphan"] * len(df))))
        src = df.sample(n=n_orphan, random_state=int(rng.integers(0, 2**31))).copy()
        src["OpportunityId"] = make_ids("Opportunity", 9_000_000_000, n_orphan, tag="ZZ")
        src["Amount"] = np.round(src["Amount"].to_numpy() * 0.37, -2) + 500
        df = pd.concat([df, src], ignore_index=True).sort_values(
            ["SystemModstamp", "OpportunityId"], kind="stable"
        )
        df.insert(0, "Id", make_ids("FinanceBooking", 1, len(df)))
        self.bookings_df = df.reset_index(drop=True)
        self.emit("FinanceBooking", self.bookings_df)

    # ---------------------------------------------------------------- malformed values
    def malformed_values(self) -> None:
        cfg = self.cfg["defects"]["malformed_value"]
        o = self.o
        conv = np.zeros(self.n_opp, bool)
        conv[self.conv_opp] = True
        pool = np.flatnonzero(o["open"] & _none(o["defect"]) & ~conv)
        ch = self.pick(pool, cfg["Opportunity"]["rate"], cfg["Opportunity"]["min"])
        opp = self.opp_df
        for j, i in enumerate(ch):
            field = ["Amount", "CloseDate", "CreatedDate"][j % 3]
            if field == "Amount":
                value = MONEY_MALFORMS[j // 3 % len(MONEY_MALFORMS)]
                if value == "12,5OO.00":
                    value = f"{opp.at[i, 'Amount']:,.2f}".replace("0", "O")
            else:
                value = (DATE_MALFORMS if field == "CloseDate" else TS_MALFORMS)[j // 3 % 3]
            o["defect"][i] = "malformed_value"
            self.malformed.append(
                {"api_name": "Opportunity", "Id": opp.at[i, "Id"], "field": field, "value": value}
            )
        L = self.L
        pool = np.flatnonzero(
            ~L["is_conv"] & _none(L["defect"]) & ~self.lead_has_lifecycle & ~self.lead_in_campaign
        )
        dup_of = [id_number(d["related_id"]) for d in self.dups if d["object"] == "Lead"]
        pool = pool[~np.isin(pool + 1, dup_of)]  # lead number = row + 1
        ch = self.pick(pool, cfg["Lead"]["rate"], cfg["Lead"]["min"])
        for j, i in enumerate(ch):
            field = ["CreatedDate", "NumberOfEmployees"][j % 2]
            value = (
                TS_MALFORMS[j // 2 % 3] if field == "CreatedDate" else ["1,2OO", "about 250", "-"][j // 2 % 3]
            )
            L["defect"][i] = "malformed_value"
            self.malformed.append(
                {"api_name": "Lead", "Id": f"{PREFIX['Lead']}DM{i + 1:013d}", "field": field, "value": value}
            )

    # ---------------------------------------------------------------- orchestration
    def run(self) -> Tables:
        cfg = self.cfg["defects"]
        self.users()
        self.accounts()
        acc_dups = self.account_duplicates()
        self.emit("Account", pd.concat([self.acc, acc_dups], ignore_index=True))
        del acc_dups
        self.opportunities()
        self.contacts_and_leads()
        self.activities()
        self.history()
        self.line_items()
        self.finish_opportunities()
        self.lead_frame()
        for heavy in ("first", "last", "company", "email"):  # now columns of lead_df
            del self.L[heavy]

        # Contact defects (not on contacts of converted leads) and duplicates.
        contacts = self.contact_df
        nc = len(contacts)
        n_plain = nc - self.contact_conv_n
        idx = np.arange(n_plain)
        rates = cfg["Contact"]
        # Keep the first contact of each account clean: activities name it as WhoId.
        pool = idx[self.n_acc :]
        inv = self.pick(pool, rates["contact_invalid_email"])
        contacts.loc[inv, "Email"] = [_break_email(e, j) for j, e in enumerate(contacts.loc[inv, "Email"])]
        pool = np.setdiff1d(pool, inv)
        orph = self.pick(pool, rates["contact_orphan_account"])
        contacts.loc[orph, "AccountId"] = make_ids("Account", 9_100_000_000, len(orph), tag="ZZ")
        pool = np.setdiff1d(pool, orph)
        cdups = self.duplicates(
            "Contact",
            contacts,
            pool,
            rates["contact_duplicate"],
            ["exact", "fuzzy:case", "fuzzy:punctuation", "fuzzy:typo", "fuzzy:email_alias"],
            nc + 1,
        )
        self.emit("Contact", pd.concat([contacts, cdups], ignore_index=True))
        del cdups

        leads = self.lead_df
        L = self.L
        pool = np.flatnonzero(~L["is_conv"] & _none(L["defect"]) & ~np.isnat(L["first_touch"]))
        self.campaigns()
        ldups = self.duplicates(
            "Lead",
            leads,
            pool,
            cfg["Lead"]["lead_duplicate"],
            [
                "exact",
                "fuzzy:case",
                "fuzzy:punctuation",
                "fuzzy:typo",
                "fuzzy:email_alias",
                "fuzzy:company_suffix",
            ],
            len(leads) + 1,
        )
        self.emit("Lead", pd.concat([leads, ldups], ignore_index=True))
        del leads, ldups, contacts, self.lead_df, self.contact_df
        self.quotas()
        self.bookings()
        self.malformed_values()

        # Records without a defect are left out up front (record number = row + 1).
        def injected_rows(api: str, defect: np.ndarray) -> pd.DataFrame:
            rows = np.flatnonzero(~_none(defect))
            ids = arrow_ids(api, rows + 1).to_numpy(zero_copy_only=False)
            return pd.DataFrame({"object": api, "record_id": ids, "defect": defect[rows]})

        inj = [injected_rows("Opportunity", self.o["defect"])]
        inj[0].loc[inj[0]["defect"].isin(["booking_missing", "booking_amount_mismatch"]), "object"] = (
            "FinanceBooking"
        )
        inj.append(injected_rows("Lead", L["defect"]))
        cdef = np.full(n_plain, None, dtype=object)
        cdef[inv], cdef[orph] = "contact_invalid_email", "contact_orphan_account"
        inj.append(injected_rows("Contact", cdef))
        bk = self.bookings_df
        orphan_b = bk.loc[bk["OpportunityId"].str[3:5] == "ZZ", "Id"]
        inj.append(
            pd.DataFrame(
                {"object": "FinanceBooking", "record_id": orphan_b.to_numpy(), "defect": "booking_orphan"}
            )
        )
        kind = {"Lead": "lead_duplicate", "Contact": "contact_duplicate", "Account": "account_duplicate"}
        inj.append(
            pd.DataFrame(
                [
                    {"object": d["object"], "record_id": d["record_id"], "defect": kind[d["object"]]}
                    for d in self.dups
                ]
            )
        )
        injected = pd.concat(inj, ignore_index=True)
        injected = (
            injected[injected["defect"].notna()].sort_values(["object", "record_id"]).reset_index(drop=True)
        )
        injected.loc[injected["record_id"].isin([m["Id"] for m in self.malformed]), "defect"] = (
            "malformed_value"
        )

        meta = {
            "clock": str(self.now),
            "seed": str(self.seed),
            "size": str(self.n_opp),
            "next_person_index": str(self.next_person),
            "next_company_index": str(self.next_company),
        }
        return Tables(
            frames=self.frames,
            dup_pairs=pd.DataFrame(self.dups, columns=["object", "record_id", "related_id", "detail"]),
            malformed=pd.DataFrame(self.malformed, columns=["api_name", "Id", "field", "value"]),
            injected=injected,
            meta=meta,
        )


# -------------------------------------------------------------------- small helpers
def _isin(values: np.ndarray, members: Any) -> np.ndarray:
    """Hash-based membership for object arrays (np.isin on objects is quadratic)."""
    return pd.Series(values, dtype=object).isin(set(members)).to_numpy()


def _none(values: np.ndarray) -> np.ndarray:
    """Element-wise ``is None`` for object arrays."""
    return np.equal(values, None)


def _group_max(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    if len(group):
        s = pd.Series(values.astype("datetime64[s]")).groupby(group).max()
        out[s.index.to_numpy()] = s.to_numpy().astype("datetime64[s]")
    return out


def _group_sum(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(group, weights=values, minlength=n).astype(np.int64)


def _reverse_group_cumsum(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of values from each row to the end of its (contiguous) group."""
    if len(group) == 0:
        return values
    s = pd.Series(values[::-1]).groupby(group[::-1]).cumsum().to_numpy()
    return s[::-1]


def _nat_to(values: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return np.where(np.isnat(values), fallback, values)


def _fmt_dates(values: np.ndarray) -> pa.Array:
    return pa.array(np.datetime_as_string(values.astype("datetime64[D]"), unit="D"), pa.large_string())


def _fmt_money(values: np.ndarray) -> pa.Array:
    return pa.array([f"{v:.2f}" for v in values], pa.large_string())


def _phones(rng: np.random.Generator, n: int) -> pa.Array:
    """'+1-555-01dd-eeee' (two digits, four digits drawn in that order)."""
    d, e = rng.integers(0, 100, n), rng.integers(0, 10000, n)
    return _strings(
        np.concatenate([_fixed("+1-555-01", n), _digits(d, 2), _fixed("-", n), _digits(e, 4)], axis=1)
    )


def _typo(word: str) -> str:
    """Swap two adjacent letters in the middle (syllables alternate consonant/vowel, so they differ)."""
    k = len(word) // 2
    return word[:k] + word[k + 1] + word[k] + word[k + 2 :]


def _break_email(email: str, j: int) -> str:
    local, domain = email.split("@")
    variants = [
        f"{local}@@{domain}",
        f"{local}.{domain}",
        f"{local}@{domain.rsplit('.', 1)[0]}",
        f"{local} @{domain}",
    ]
    return variants[j % len(variants)]


def _mutate_company(stem: str, suffix: str, kind: str) -> str:
    if kind == "exact":
        return f"{stem} {suffix}"
    if kind == "fuzzy:case":
        return f"{stem} {suffix}".upper()
    if kind == "fuzzy:punctuation":
        return stem.replace(" ", "-") + ", " + suffix.replace(".", "")
    if kind == "fuzzy:typo":
        a, b = stem.split(" ")
        return f"{a} {_typo(b)} {suffix}"
    if kind == "fuzzy:company_suffix":
        return f"{stem} {SUFFIX_LONG[suffix]}"
    raise ValueError(kind)


def generate(n_opp: int, seed: int, start: datetime) -> Tables:
    """Generate every table of the demo CRM; the object tables are spilled to disk as they finish."""
    tables = _Gen(n_opp, seed, start).run()
    _release_free_memory()
    return tables


def _release_free_memory() -> None:
    """Give the generator's freed heap back to the OS before DuckDB loads the tables.

    glibc keeps freed small allocations (millions of short-lived strings and arrays) in its arenas;
    without the trim the process would carry them through the load. No-op off glibc.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def default_path() -> Path:
    from salesops import paths

    return paths.data_dir() / "demo_crm.duckdb"
