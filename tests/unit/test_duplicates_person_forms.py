"""Issue 15, person recall after round 6 (tests/fixtures/duplicates/HELD_OUT.md): general rules for
forms of a person's name and phone that the field-event lead list and the support-desk contact list
held, each with the people it must keep apart.

quality.yaml ``duplicates`` (``person.fellegi_sunter``): German / Portuguese / Spanish / Japanese
short forms in ``nickname_supplement`` (Rike, Duda, Tono, Taka), ``compound_given_names`` (a short
form of one word of a two-word given name), ``given_name_variants`` (Youssef / Yusuf),
``compound_surname_slip`` and ``corroboration.different_name.compound_part_unopposed`` (a compound
surname written with one part, that part with a slip, on the same line), ``national_phone_forms``
("01 555 3190" / "+234 1 555 3190"). The positive tests fail on the matcher before these rules.
All names, companies and addresses are invented (``.example``, 555)."""

from __future__ import annotations

import copy
import itertools

import pandas as pd
import pytest
from pydantic import ValidationError

from salesops.policy.models.quality import FellegiSunter
from salesops.quality.catalogue import load_config
from salesops.quality.duplicates import (
    find_duplicates,
    nickname_supplement,
    person_name_forms,
    phone_parts,
    same_given_name,
)

COLS = ["first_name", "last_name", "company", "email", "phone", "street", "city"]


@pytest.fixture(scope="module")
def dup_cfg():
    return load_config().section("duplicates")


def _found(dup_cfg, rows: list[tuple], obj: str = "lead", **fs_changes) -> set[tuple[str, str]]:
    df = pd.DataFrame(rows, columns=["record_id", *COLS])
    df["created_at"] = pd.Timestamp("2026-01-01")
    rules = dup_cfg["objects"][obj]
    if fs_changes:  # the rules without one of this file's settings (the old matcher's behaviour)
        rules = copy.deepcopy(rules)
        fs = rules["person"]["fellegi_sunter"]
        for key, value in fs_changes.items():
            if key == "compound_part_unopposed":
                fs["corroboration"]["different_name"][key] = value
            else:
                fs[key] = value
    clusters = find_duplicates(df, obj, rules, dup_cfg["company_suffixes"]).clusters
    out: set[tuple[str, str]] = set()
    for _, g in clusters.groupby("cluster_id"):
        out |= set(itertools.combinations(sorted(g.record_id), 2))
    return out


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("friederike", "rike"),
        ("ulrike", "rike"),
        ("eduarda", "duda"),
        ("antonio", "tono"),
        ("takahiro", "taka"),
        ("youssef", "yusuf"),
        ("mohammed", "muhammad"),
    ],
)
def test_short_forms_and_transliterations(dup_cfg, name, short):
    """German Rike, Portuguese Duda, Spanish Tono (Toño), Japanese Taka and the Arabic given
    names' transliterations: one person's given names, as the office-line and different-name
    rules compare them; the nicknames package's English table lacks them."""
    fs = dup_cfg["objects"]["lead"]["person"]["fellegi_sunter"]
    assert same_given_name(name, short, nickname_supplement(fs))
    assert not same_given_name(name, short, ())


def test_compound_given_name_short_form_is_one_word_of_it(dup_cfg):
    """A short form of one word of a two-word given name (Duda of Maria Eduarda, Tono of Jose
    Antonio) is that name; not of another two-word name sharing the other word (Maria Clara),
    nor two two-word names sharing a word."""
    extra = nickname_supplement(dup_cfg["objects"]["lead"]["person"]["fellegi_sunter"])
    assert same_given_name("maria eduarda", "duda", extra, compound=True)
    assert same_given_name("jose antonio", "tono", extra, compound=True)
    assert not same_given_name("maria eduarda", "duda", extra)  # without the rule
    assert not same_given_name("maria clara", "duda", extra, compound=True)
    assert not same_given_name("maria clara", "maria eduarda", extra, compound=True)


def _tono_rows() -> list[tuple]:
    return [
        # a distributor's ERP export (phone and address, no e-mail), capitals
        (
            "J1",
            "JOSE ANTONIO",
            "ARRIAGA",
            "Talleres Cuitzeo",
            None,
            "+52 (443) 555-2210",
            "AV MADERO 88",
            "MORELIA",
        ),
        # the same person's support-desk request: the short form and his mailbox, same direct line
        ("J2", "Toño", "Arriaga", "Talleres Cuitzeo", "jarriaga@cuitzeo.example", "443 555 2210", None, None),
    ]


def test_compound_given_name_short_form_on_one_direct_line(dup_cfg):
    """Jose Antonio / Tono on one direct line at one company: one person (before the rule the
    given names disagreed: another person on a shared line)."""
    assert ("J1", "J2") in _found(dup_cfg, _tono_rows())
    assert ("J1", "J2") not in _found(dup_cfg, _tono_rows(), compound_given_names=False)


def test_compound_given_name_short_form_with_own_lines_and_mailboxes(dup_cfg):
    """Jose Antonio and Tono Arriaga at one company, each with his own mailbox and extension:
    close names with no personal field agreeing are two people (a father and son)."""
    rows = [
        (
            "J1",
            "Jose Antonio",
            "Arriaga",
            "Talleres Cuitzeo",
            "ja.arriaga@cuitzeo.example",
            "+52 443 555 2210 ext 14",
            "Av. Madero 88",
            "Morelia",
        ),
        (
            "J2",
            "Tono",
            "Arriaga",
            "Talleres Cuitzeo",
            "tono@cuitzeo.example",
            "443 555 2210 x 31",
            None,
            "Morelia",
        ),
        # a sister on the family firm's main line: Duda is no short form of Maria Clara
        (
            "M1",
            "Maria Clara",
            "Arriaga",
            "Talleres Cuitzeo",
            None,
            "443 555 2200",
            "Av. Madero 88",
            "Morelia",
        ),
        ("M2", "Duda", "Arriaga", "Talleres Cuitzeo", "duda@cuitzeo.example", "443 555 2200", None, None),
    ]
    assert _found(dup_cfg, rows) == set()


def _farm_rows(b_email: str | None, b_phone: str) -> list[tuple]:
    return [
        (
            "F1",
            "Ana Beatriz",
            "Monteiro Carvalhaes",
            "Fazenda Boa Vista Ltda.",
            "ab.carvalhaes@boavista-agro.example",
            "+55 35 5555-4410",
            "Estrada do Cafe 900",
            "Varginha",
        ),
        # a badge scan of the same person: one part of her surname, with a slip, no e-mail
        (
            "F2",
            "ANA BEATRIZ",
            "CARVALHAIS",
            "FAZENDA BOA VISTA LTDA",
            b_email,
            b_phone,
            "ESTRADA DO CAFE 900",
            "VARGINHA",
        ),
        # her sister on the farm's line and address (the line is an office line)
        (
            "F3",
            "Lucia Helena",
            "Monteiro Carvalhaes",
            "Fazenda Boa Vista Ltda.",
            "lh.carvalhaes@boavista-agro.example",
            "+55 35 5555-4410",
            "Estrada do Cafe 900",
            "Varginha",
        ),
    ]


def test_compound_surname_part_with_a_slip_on_the_same_line(dup_cfg):
    """ "Ana Beatriz Carvalhais" (a badge scan: one part of the compound surname, one letter
    changed, no e-mail) on the family farm's line and address is Ana Beatriz Monteiro
    Carvalhaes; her sister on the same line and address is not. Before the rules the part's slip
    kept the surnames apart and the office line did not back a different surname."""
    rows = _farm_rows(None, "(35) 5555-4410")
    found = _found(dup_cfg, rows)
    assert ("F1", "F2") in found
    assert not {("F1", "F3"), ("F2", "F3")} & found
    assert ("F1", "F2") not in _found(dup_cfg, rows, compound_surname_slip=False)
    assert ("F1", "F2") not in _found(dup_cfg, rows, compound_part_unopposed=False)


@pytest.mark.parametrize(
    ("b_email", "b_phone"),
    [
        ("anab.carvalhais@boavista-agro.example", "(35) 5555-4410"),  # her own mailbox
        (None, "(35) 5555-4427"),  # her own direct line
    ],
)
def test_two_people_sharing_a_part_of_a_compound_surname_at_one_company(dup_cfg, b_email, b_phone):
    """The same given name and a part of the compound surname at one company and address, but
    an own mailbox or an own direct line: two people (a cousin), not the name written shorter."""
    assert ("F1", "F2") not in _found(dup_cfg, _farm_rows(b_email, b_phone))


def test_common_surname_part_at_one_office(dup_cfg):
    """Jose Silva and Jose Pereira Silva at one office address, each with his own mailbox and
    direct line: two people. (One shared number and one given name would back the compound
    part, as before these rules: the matcher cannot tell a shared line from a person's.)"""
    rows = [
        (
            "S1",
            "Jose",
            "Silva",
            "Lusoterra Engenharia",
            "jose.silva@lusoterra.example",
            "+351 21 555 0100",
            "Rua Augusta 10",
            "Lisboa",
        ),
        (
            "S2",
            "Jose",
            "Pereira Silva",
            "Lusoterra Engenharia",
            "jp.silva@lusoterra.example",
            "21 555 0117",
            "Rua Augusta 10",
            "Lisboa",
        ),
    ]
    assert _found(dup_cfg, rows) == set()


def test_national_phone_form_with_a_short_number(dup_cfg):
    """ "01 555 3190" (national form: trunk 0 and an 8-digit number) is "+234 1 555 3190": the
    same direct line backs the short form Emeka of Chukwuemeka. Another city's line ending
    alike ("+234 9 555 3190") does not."""
    number, _ext = phone_parts(
        ["01 555 3190", "+234 1 555 3190", "(201) 555-0134", "0711 5553810"], national=True
    )
    assert number.to_pylist() == ["15553190", "415553190", "015550134", "115553810"]
    assert phone_parts(["01 555 3190"])[0].to_pylist() == ["015553190"]  # without the rule
    rows = [
        ("E1", "Chukwuemeka", "Obiora", "Lekki Freight Ltd", None, "01 555 3190", "4 Marina Road", "Lagos"),
        (
            "E2",
            "Emeka",
            "Obiora",
            "Lekki Freight",
            "emeka.obiora@lekkifreight.example",
            "+234 1 555 3190",
            None,
            "Lagos",
        ),
    ]
    assert ("E1", "E2") in _found(dup_cfg, rows)
    assert ("E1", "E2") not in _found(dup_cfg, rows, national_phone_forms=False)
    other_city = [rows[0], (*rows[1][:5], "+234 9 555 3190", *rows[1][6:])]
    assert _found(dup_cfg, other_city) == set()


def test_transliterated_given_name_on_one_direct_line(dup_cfg):
    """Youssef / Yusuf Benhaddou on one direct line (an e-mail domain typo on one row): one
    person; Mohammed / Muhammad Haddouchi at one company with own mailboxes and extensions: two
    people (namesakes); Yasmina Benhaddou on the main line: another person."""
    rows = [
        (
            "Y1",
            "Youssef",
            "Benhaddou",
            "Oasis Dattes SARL",
            "y.benhaddou@oasis-dattes.example",
            "+212 524 555 731",
            "12 Avenue Hassan II",
            "Marrakech",
        ),
        (
            "Y2",
            "Yusuf",
            "Benhaddou",
            "Oasis Dattes",
            "y.benhaddou@oasis-datte.example",
            "0524555731",
            None,
            None,
        ),
        (
            "Y3",
            "Yasmina",
            "Benhaddou",
            "Oasis Dattes SARL",
            "ya.b@oasis-dattes.example",
            "+212 524 555 700",
            None,
            None,
        ),
        (
            "H1",
            "Mohammed",
            "Haddouchi",
            "Oasis Dattes SARL",
            "m.haddouchi@oasis-dattes.example",
            "+212 524 555 700 x 12",
            None,
            "Marrakech",
        ),
        (
            "H2",
            "Muhammad",
            "Haddouchi",
            "Oasis Dattes SARL",
            "mu.haddouchi@oasis-dattes.example",
            "+212 524 555 700 x 19",
            None,
            "Marrakech",
        ),
    ]
    assert _found(dup_cfg, rows) == {("Y1", "Y2")}
    assert _found(dup_cfg, rows, given_name_variants=[]) == set()


def test_given_name_variants_are_groups_of_two_or_more():
    """A variant group of one name is a policy error (the typed model)."""
    base = {
        "threshold": 26,
        "fields": {
            "first_name": {"m": {"exact": 0.6}, "u": {"exact": 0.004}},
            "last_name": {"m": {"exact": 0.6}, "u": {"exact": 0.004}},
        },
    }
    assert FellegiSunter.model_validate({**base, "given_name_variants": [["youssef", "yusuf"]]})
    with pytest.raises(ValidationError, match="given_name_variants"):
        FellegiSunter.model_validate({**base, "given_name_variants": [["youssef"]]})


# Round 7 (HELD_OUT.md): the partner-portal lead list's and the e-signature contact list's
# person errors. quality.yaml ``duplicates.objects.<lead|contact>``: ``placeholder_surnames``,
# ``transliterate_names``, ``bracketed_given_aliases``, ``patronymic_particles`` /
# ``surname_word_forms``; ``person.fellegi_sunter``: ``russian_surname_forms``,
# ``surname_variants``, the Ekaterina / Katerina group of ``given_name_variants`` and
# ``corroboration.household_given_names``. Each positive test fails without its rule (the old
# matcher); each negative one is the people the rule must keep apart.

CONTACT_COLS = ["first_name", "last_name", "company", "email", "phone", "street", "city", "birthdate"]


def _found7(dup_cfg, rows: list[tuple], obj: str = "lead", off: tuple[str, ...] = ()) -> set[tuple[str, str]]:
    """Pairs found in ``rows``; ``off``: settings of round 7 turned off (the old matcher)."""
    cols = CONTACT_COLS if obj == "contact" else COLS
    df = pd.DataFrame(rows, columns=["record_id", *cols])
    df["created_at"] = pd.Timestamp("2026-01-01")
    rules = copy.deepcopy(dup_cfg["objects"][obj])
    fs = rules["person"]["fellegi_sunter"]
    for key in off:
        if key == "household_given_names":
            fs["corroboration"].pop(key)
        elif key == "given_name_variants":
            fs[key] = [g for g in fs[key] if "ekaterina" not in g]
        elif key in fs:
            fs[key] = type(fs[key])()
        else:
            rules[key] = type(rules[key])()
    clusters = find_duplicates(df, obj, rules, dup_cfg["company_suffixes"]).clusters
    out: set[tuple[str, str]] = set()
    for _, g in clusters.groupby("cluster_id"):
        out |= set(itertools.combinations(sorted(g.record_id), 2))
    return out


def _couple_rows(a_last: str) -> list[tuple]:
    # a husband's lead and his wife's sign-up on the farm's shared mailbox and phone
    return [
        ("V1", "Pieter", "Brandvlei", "Kareekloof Boerdery", "pa.brandvlei@kareekloof.example",
         "+27 23 555 4410", "Kareekloof Farm", "Montagu"),
        ("V2", "Annelie Brandvlei", a_last, "Kareekloof Boerdery", "pa.brandvlei@kareekloof.example",
         "+27 23 555 4410", None, None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("placeholder", "old_found"),
    [("[not provided]", False), ("n/a", False), ("unknown", False), ("-", True), (".", True)],
)
def test_placeholder_surname_gives_the_first_names_last_word(dup_cfg, placeholder, old_found):
    """ "Annelie Brandvlei" / "[not provided]" (the whole name typed in First Name) is Annelie /
    Brandvlei: one person with the record of her name on her own mailbox and direct line (the old
    matcher found it only when the placeholder was punctuation, an empty surname once
    normalised)."""
    rows = [
        ("B1", "Annelie", "Brandvlei", "Kareekloof Boerdery", "annelie@kareekloof.example",
         "+27 82 555 0193", "Kareekloof Farm", "Montagu"),
        ("B2", "Annelie Brandvlei", placeholder, "Kareekloof", None, "082 555 0193", None, None),
    ]  # fmt: skip
    assert ("B1", "B2") in _found7(dup_cfg, rows)
    assert (("B1", "B2") in _found7(dup_cfg, rows, off=("placeholder_surnames",))) is old_found


def test_husband_and_wife_on_one_mailbox_with_a_placeholder_surname(dup_cfg):
    """Pieter Brandvlei and "Annelie Brandvlei" / "[not provided]" on pa.brandvlei@ (a word of
    both initials) and one phone: two people (the old matcher joined them: round 7's false lead
    pair), and so are they with her surname written out."""
    assert ("V1", "V2") not in _found7(dup_cfg, _couple_rows("[not provided]"))
    assert ("V1", "V2") not in _found7(dup_cfg, _couple_rows(""))
    old = ("placeholder_surnames", "household_given_names")
    assert ("V1", "V2") in _found7(dup_cfg, _couple_rows("[not provided]"), off=old)


def _family_rows(b_birth: str) -> list[tuple]:
    return [
        ("F1", "Gaspard", "Vernolles", "ACC-0901", "famille.vernolles@vernolles.example",
         "+33 3 80 555 301", "4 rue des Caves", "Pommard", "1951-06-02"),
        ("F2", "Mireille", "Vernolles", "ACC-0901", "famille.vernolles@vernolles.example",
         None, None, None, b_birth),
    ]  # fmt: skip


def test_husband_and_wife_on_a_family_mailbox_with_their_birth_dates(dup_cfg):
    """Gaspard and Mireille Vernolles on famille.vernolles@ at one account, born 1951 and 1954:
    two people (the old matcher joined them on the mailbox: round 7's false contact pair)."""
    assert ("F1", "F2") not in _found7(dup_cfg, _family_rows("1954-11-20"), "contact")
    old = ("household_given_names",)
    assert ("F1", "F2") in _found7(dup_cfg, _family_rows("1954-11-20"), "contact", off=old)


def test_short_form_on_a_personal_mailbox_with_one_birth_date(dup_cfg):
    """A short form of other first letter (Margarethe / Greta) on her own mailbox m.lindenhorst@
    with one birth date is one person: no household mailbox, no birth-date conflict."""
    rows = [
        ("G1", "Margarethe", "Lindenwald", "ACC-0902", "m.lindenwald@cobaltfen.example",
         "+1 608 555 0125", None, "Madison", "1979-03-14"),
        ("G2", "Greta", "Lindenwald", "ACC-0902", "m.lindenwald@cobaltfen.example", None, None, None,
         "1979-03-14"),
    ]  # fmt: skip
    assert ("G1", "G2") in _found7(dup_cfg, rows, "contact")


def _russian_rows() -> list[tuple]:
    return [
        ("R1", "Yekaterina", "Vorobyova", "OOO Kamaflot", "e.vorobyova@kamaflot.example",
         "+7 843 555-31-07", "ul. Baumana 12", "Kazan"),
        # the sign-up in Cyrillic with the same line, no e-mail
        ("R2", "Екатерина", "Воробьёва", "Камафлот", None, "+7 (843) 5553107", None, None),
        # another reseller: the given name's variant and ё as e, the same line in another format
        ("R3", "Katerina", "Vorobeva", "Kamaflot LLC", None, "8 843 555 31 07", None, "Kazan"),
    ]  # fmt: skip


def test_cyrillic_name_and_its_transliterations(dup_cfg):
    """Екатерина Воробьёва / Yekaterina Vorobyova / Katerina Vorobeva on one line: one person (the Cyrillic name transliterated; Yekaterina / Katerina one given name's
    variants; ё written yo or e is close by Jaro-Winkler already)."""
    assert {("R1", "R2"), ("R1", "R3"), ("R2", "R3")} <= _found7(dup_cfg, _russian_rows())
    assert ("R1", "R2") not in _found7(dup_cfg, _russian_rows(), off=("transliterate_names",))
    assert ("R1", "R3") not in _found7(dup_cfg, _russian_rows(), off=("given_name_variants",))
    first, last, _ = person_name_forms(
        pd.Series(["Екатерина"]), pd.Series(["Воробьёва"]), {"transliterate_names": True}
    )
    assert (first.to_pylist(), last.to_pylist()) == (["ekaterina"], ["vorobeva"])  # ё folded to е
    # Chinese characters and kana stay as they are (text-unidecode would read them as Mandarin)
    first, _, _ = person_name_forms(pd.Series(["彩"]), pd.Series(["山本"]), {"transliterate_names": True})
    assert first.to_pylist() == ["彩"]


def test_russian_couple_on_one_mailbox_and_namesakes_with_own_lines(dup_cfg):
    """Ivan Vorobyov and Polina Vorobyova on ip.vorobyov@ (both initials) and one home phone are
    two people; two Vorobyova / Vorobeva at one company with their own mailboxes
    and lines (no personal field the same) are two people too."""
    rows = [
        ("C1", "Ivan", "Vorobyov", "Kamaflot", "ip.vorobyov@kamaflot.example", "+7 843 555-31-08", None, "Kazan"),
        ("C2", "Polina", "Vorobyova", "Kamaflot", "ip.vorobyov@kamaflot.example", "+7 843 555-31-08", None, "Kazan"),
        ("C3", "Darya", "Vorobyova", "Kamaflot", "d.vorobyova@kamaflot.example", "+7 843 555-31-20", None, "Kazan"),
        ("C4", "Daria", "Vorobeva", "Kamaflot", "daria.vorobeva@kamaflot.example", "+7 843 555-31-44", None, "Kazan"),
    ]  # fmt: skip
    assert not _found7(dup_cfg, rows)


def _malay_rows(c_first: str) -> list[tuple]:
    return [
        ("M1", "NURUL HUDA", "BT. ABD GHANI", "SERI KENANGA LOGISTIK", None, "03-5555 7301",
         "NO. 12 JALAN SS2/24", "PETALING JAYA"),
        ("M2", "Nurul Huda", "binti Abdul Ghani", "Seri Kenanga Logistik Sdn Bhd",
         "nurulhuda@serikenanga.example", "+60 3-5555 7301", "Jalan SS 2/24, No. 12", "Petaling Jaya"),
        ("M3", c_first, "bin Abdul Ghani", "Seri Kenanga Logistik Sdn Bhd", "hafiz@serikenanga.example",
         "+60 3-5555 7301", "Jalan SS 2/24, No. 12", "Petaling Jaya"),
    ]  # fmt: skip


def test_malay_patronymic_abbreviated(dup_cfg):
    """ "BT. ABD GHANI" / "binti Abdul Ghani" on one line and address: one person (bt. / binti
    left out, abd written out); her brother Hafiz bin Abdul Ghani on the family firm's line, with
    his own mailbox, is another."""
    found = _found7(dup_cfg, _malay_rows("Hafiz"))
    assert ("M1", "M2") in found
    assert not {("M1", "M3"), ("M2", "M3")} & found
    assert ("M1", "M2") not in _found7(dup_cfg, _malay_rows("Hafiz"), off=("patronymic_particles",))


def _korean_rows(c_birth: str) -> list[tuple]:
    return [
        ("K1", "Ji-ho (James)", "Lim", "ACC-0903", "james.lim@hanbit-tech.example", "+82 2-555-7710",
         "88 Teheran-ro", "Seoul", "1988-04-09"),
        ("K2", "James", "Yim", "ACC-0903", None, "+82 10-5555-7710", None, "Seoul", "1988-04-09"),
        ("K3", "Jiho", "Im", "ACC-0903", "jh.im@hanbit-tech.example", "+82 10-5555-7790", None, "Seoul",
         c_birth),
    ]  # fmt: skip


def test_korean_surname_romanisations_and_a_bracketed_english_name(dup_cfg):
    """ "Ji-ho (James)" Lim and James Yim at one account with one birth date: one person (Yim a
    romanisation of Lim, James the bracketed English name); Jiho Im there with his own mailbox,
    line and another birth date is another person."""
    found = _found7(dup_cfg, _korean_rows("1991-12-01"), "contact")
    assert ("K1", "K2") in found
    assert not {("K1", "K3"), ("K2", "K3")} & found
    # without either rule, apart ("James" is also one word of the given name "Ji-ho (James)", so
    # the bracketed alias goes with the compound given names' rule)
    for old in (("surname_variants",), ("bracketed_given_aliases", "compound_given_names")):
        assert ("K1", "K2") not in _found7(dup_cfg, _korean_rows("1991-12-01"), "contact", off=old)


def test_lim_and_im_with_other_birth_dates_stay_apart(dup_cfg):
    """Jiwoo Lim and Jiwoo Im at one account, own mailboxes and lines, born years apart: two
    people (Lim / Im are one surname's romanisations only with a personal field the same)."""
    rows = [
        ("L1", "Jiwoo", "Lim", "ACC-0904", "jiwoo.lim@daeseong.example", "+82 2-555-1101", None, "Seoul",
         "1984-02-17"),
        ("L2", "Jiwoo", "Im", "ACC-0904", "jw.im@daeseong.example", "+82 2-555-1188", None, "Seoul",
         "1990-08-30"),
    ]  # fmt: skip
    assert not _found7(dup_cfg, rows, "contact")
