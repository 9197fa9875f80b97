"""quality.yaml: the check catalogue, matching, freshness, reconciliation, scorecard, tickets."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from salesops.policy.models._base import PolicyModel, bad

ScopeType = Literal["owner", "team", "region", "segment"]


class AsOf(PolicyModel):
    source: Literal["load_audit"] = "load_audit"


class CheckModel(PolicyModel):
    object: str = Field(min_length=1)  # manifest name, or "*" for checks over every object
    engine: Literal["gx", "sql", "python"]
    severity: Literal["blocker", "warn"]
    target: float = Field(default=0, ge=0, le=1)  # highest failed rate at which the check passes
    scopes: list[ScopeType] = []
    dimension: str | None = None
    queue: bool = True
    description: str = ""
    # manifest object -> API fields the check cannot be evaluated without (else: not_evaluated)
    needs: dict[str, list[str]] | None = None


class BookingMatch(PolicyModel):
    amount_tolerance: float = Field(default=0.01, ge=0)


class Reconciliation(PolicyModel):
    period: Literal["fiscal_quarter"] = "fiscal_quarter"
    variance_threshold_pct: float = Field(ge=0)
    min_closed_won_amount: float = Field(default=0, ge=0)


class Freshness(PolicyModel):
    clock: Literal["source", "wall"] = "source"
    default_window_hours: float = Field(default=26, gt=0)
    windows_hours: dict[str, float] = {}


class CompanyAcronyms(PolicyModel):
    """Account names: a one-word name that is the initials of another's core on the same website
    (duplicates.py acronym_pairs)."""

    needs: Literal["website"] = "website"  # the corroboration: the same website domain
    min_letters: int = Field(default=2, ge=2)
    # a domain more accounts give is a platform or a group's site, not one company's
    max_site_accounts: int = Field(default=10, ge=2)
    # some words as their initials, the others as they are ("Almagro TI"), on the same website
    partial: bool = False
    skip_words: list[str] = []  # words such an acronym may leave out ("de", "la")
    # a partial acronym may end with the legal form's initial ("REMC" / "Rural Electric Membership
    # Corporation")
    legal_form_initial: bool = False
    # a run of words written as their initials in capitals in a name that is not all capitals
    # ("Maple Ridge USD" / "... Unified School District"), this many letters or more, the other
    # words the same: no website needed (0 = never)
    capitals: int = Field(default=0, ge=0)


class ExtendedSiteNames(PolicyModel):
    """A name and the same name with words more after it on one website (duplicates.py
    extended_name_site_pairs): "Meridian Freight" / "Meridian Freight Systems Inc"."""

    # whether the rule matches names at all; off, its word lists still mark another entity's
    # names for the other same-website rules (brand_word finds what it found on rounds 1-31)
    match: bool = True
    # at most this many words more
    max_extra_words: int = Field(default=3, ge=1)
    # a word more that names another entity: a holding, a foundation, a finance arm
    distinguishing_words: list[str] = []
    # words that mark another entity only as the words one name has more than the other on one
    # website (a charity's "... Trading Ltd", "... - Dammam Branch"), not wherever they stand ("X
    # Trading LLC" is a trading company's own name)
    unit_words: list[str] = []
    # CLDR locales whose country and region names (Babel) are words of a country subsidiary or a
    # region's company ("... Polska", "... United States"); region_words: others ("nordic", "emea")
    territory_locales: list[str] = []
    region_words: list[str] = []
    # states and provinces (one word or more: "new south wales") named like regions
    region_names: list[str] = []
    # words more starting with one of these name a state's or a region's entity ("... of Kentucky")
    subsidiary_words_first: list[str] = []
    # "<name with its legal form> - <site>" (a plant, a ship-to of that legal entity) is that name
    site_after_legal_form: bool = False

    @model_validator(mode="after")
    def _locales(self) -> ExtendedSiteNames:
        from babel import Locale, UnknownLocaleError

        for n, loc in enumerate(self.territory_locales):
            try:
                Locale.parse(loc)
            except (UnknownLocaleError, ValueError) as exc:
                raise bad(
                    f"territory_locales[{n}]", loc, "a CLDR locale Babel knows (en, de, pt_BR ...)"
                ) from exc
        return self


class BrandWord(PolicyModel):
    """Two names on one website sharing a word its domain spells (duplicates.py brand_word_site_pairs)."""

    min_letters: int = Field(default=4, ge=3)


class SameSiteNames(PolicyModel):
    """Account names that are one company's only because both records give the same website
    domain (duplicates.py site_name_pairs): compared word by word after the name core."""

    # a word written as its first letters ("Gen." / General, "Lab" / Laboratory, "Soc." /
    # Sociedade): this many letters or more, at most abbreviation_max_letters, never the last word
    # (where a branch, a franchise's location or a country subsidiary's word stands)
    abbreviation_min_letters: int = Field(default=3, ge=2)
    abbreviation_max_letters: int = Field(default=5, ge=2)
    # a word written as a contraction, in any place: its first and last letter and some letters
    # between, in order ("Schl" / School, "Pt" / Point, "Mgmt" / Management), at most this many
    # letters (0: never)
    contraction_max_letters: int = Field(default=0, ge=0)
    # a word and its English plural ("Facilities" / "Facility") on one website
    plurals: bool = False
    # the same words in another order ("Hangzhou Qingyuan Valve" / "Qingyuan Valve (Hangzhou)")
    word_order: bool = False
    # a leading group word dropped ("Grupo Tezontle Logistica" / "Tezontle Logistica"), two words
    # or more left and the legal forms not different (a listed parent "S.A.B." stays apart)
    group_words: list[str] = []
    # a word and its translation ("seimitsu" / "precision", "kogyo" / "industry"): word -> words
    translations: dict[str, list[str]] = {}
    # a name in a script without Latin letters ("(주)한빛소재") and the one name on its website that
    # the domain spells ("hanbit-materials.example" / "Hanbit Materials Co., Ltd."): one company
    other_script_domain_name: bool = False
    # a name and the same name with words more after it (the form taken from the domain or typed by
    # a rep beside the registered name): None = never
    extended_names: ExtendedSiteNames | None = None
    # a record named by its website's domain ("redgumhotels.example") and that website's company
    domain_as_name: bool = False
    # two names sharing a word the website's domain spells (a rename, a registered and a trading
    # name): one company; min_letters: the word's least length
    brand_word: BrandWord | None = None

    @model_validator(mode="after")
    def _letters(self) -> SameSiteNames:
        if self.abbreviation_max_letters < self.abbreviation_min_letters:
            raise bad(
                "abbreviation_max_letters", self.abbreviation_max_letters, "at least abbreviation_min_letters"
            )
        return self


class DottedAbbreviations(PolicyModel):
    """Account names whose words are written as their start with a full stop (duplicates.py
    dotted_abbreviation_pairs)."""

    min_letters: int = Field(default=3, ge=2)
    # the abbreviation table's words (tokens.abbreviations) written without a full stop count too
    table_words: bool = False


class IdentifierBrackets(PolicyModel):
    """A last bracket that identifies the account in a register or on an exchange (duplicates.py
    _identifier_bracket), not a name."""

    words: list[str] = []
    exchanges: list[str] = []


class CompanyTokens(PolicyModel):
    """Account names: word-weighted comparison of the name cores (duplicates.py token_score)."""

    stopwords: list[str] = []
    abbreviations: dict[str, str] = {}
    token_floor: float = Field(default=85, ge=0, le=100)
    prefilter: float = Field(default=70, ge=0, le=100)
    acronyms: CompanyAcronyms | None = None
    # legal forms written before the name (canonical, after company_suffixes): "kk aozora" = "aozora"
    leading_legal_forms: list[str] = []
    # field lengths an export cuts names at: a name exactly that long may be the start of another's
    cut_lengths: list[Annotated[int, Field(ge=10)]] = []
    # words after a firm's name ("... Solicitors"): the name without them on the same website
    trade_descriptors: list[str] = []
    # abbreviations (keys of ``abbreviations``) also expanded when a hyphen joins them to the next
    # word ("St-Aubin" = "Saint-Aubin")
    hyphenated_abbreviations: list[str] = []
    # names one company's only on the same website (needs acronyms.max_site_accounts)
    same_site: SameSiteNames | None = None
    # round-7 account rules (issue 15): scripts transliterated to Latin before comparing (Unicode
    # script names: "Greek", "Cyrillic"); number words written as digits ("twenty" -> "20"); CRM
    # markers after a separator left out ("- DO NOT USE (duplicate)"); trading-name markers whose
    # two sides are both names of the record's company ("d/b/a", "t/a", "vormals"; also an
    # operating name in brackets after a legal form; "formerly" / "vormals": the former name); partnership forms whose general partner is a
    # company ("GmbH & Co. KG": another legal entity than the GmbH); "+" between words as "&"
    transliterate_scripts: list[Literal["Greek", "Cyrillic"]] = []
    # a number word and its digits ("twenty": "20"), an ordinal word and its form ("first": "1st")
    number_words: dict[str, Annotated[str, Field(pattern=r"^[0-9]+(st|nd|rd|th)?$")]] = {}
    crm_markers: list[str] = []
    trading_name_markers: list[str] = []  # both names on the same website where both give one
    former_name_markers: list[str] = []  # a rename ("vormals"): no website needed (a new one)
    partnership_forms: list[str] = []
    # words written as their start with a full stop ("STEIR. GIESSEREI" / "Steirische Gießerei")
    dotted_abbreviations: DottedAbbreviations | None = None
    # names this many letters apart or fewer (not the same core), each on a website of its own,
    # are two companies with look-alike names (0: never)
    slips_need_one_site: int = Field(default=0, ge=0)
    # a name written with its first words after a comma ("PINECREST FALLS, CITY OF"): those words
    inverted_prefixes: list[str] = []
    # a last bracket holding the initials of the name before it ("... Utilities (DMU)") left out
    bracketed_initials: bool = False
    # a last bracket holding a register number ("(FDIC #33871)", words: register names that may
    # stand before the number) or a stock listing ("(NASDAQ: QLVX)", exchanges): left out
    identifier_brackets: IdentifierBrackets | None = None
    # elided articles and prepositions before a vowel or h ("d'Hervilly", "l'Étang"): written as
    # their full word ("de", "la"), so "Commune d'Hervilly" = "Commune de Hervilly"
    elisions: dict[Annotated[str, Field(pattern=r"^[a-z]$")], str] = {}
    # two names ending in different legal forms, each on a website of its own, are two companies
    other_forms_other_sites: bool = False
    # two names on two websites, one with a word the other does not write in any form: two
    # organisations ("... County Housing Authority" on jfcha.example / "... Housing Authority")
    other_words_other_sites: bool = False
    plus_as_and: bool = False
    # a name with one of these words (another entity: "Foundation", "Holding") that the other does
    # not write in any form is another account, whichever pass matched them
    entity_words_apart: list[str] = []
    # numbered companies ("2785510 Ontario Inc."): names whose digits differ never match
    numbers_must_agree: bool = False

    @model_validator(mode="after")
    def _hyphenated(self) -> CompanyTokens:
        unknown = sorted(set(self.hyphenated_abbreviations) - set(self.abbreviations))
        if unknown:
            raise bad("hyphenated_abbreviations", unknown, "keys of abbreviations")
        return self


FsFieldName = Literal[
    "first_name",
    "last_name",
    "street",
    "city",
    "postal_code",
    "state",
    "phone",
    "email",
    "company",
    "birth_date",
]
Probability = Annotated[float, Field(gt=0, lt=1)]


class FsLevels(PolicyModel):
    """m or u probabilities of a field's agreement levels (disagree = 1 - exact - close)."""

    exact: Probability
    close: Probability | None = None


class FsField(PolicyModel):
    """One field of the Fellegi-Sunter person scorer: its close threshold and m/u probabilities."""

    close: float | None = Field(default=None, gt=0, lt=1)  # similarity 0-1 at or above = close
    m: FsLevels  # share of true duplicates at each level
    u: FsLevels  # share of unrelated pairs at each level

    @model_validator(mode="after")
    def _levels(self) -> FsField:
        for side in ("m", "u"):
            levels = getattr(self, side)
            if (levels.close is None) != (self.close is None):
                raise bad(f"{side}.close", levels.close, "set exactly when the field has a close threshold")
            if levels.exact + (levels.close or 0.0) >= 1:
                raise bad(
                    side,
                    levels.exact + (levels.close or 0.0),
                    "exact + close below 1 (disagree gets the rest)",
                )
        for level in ("exact", "close"):
            m, u = getattr(self.m, level), getattr(self.u, level)
            if m is not None and u is not None and m <= u:
                raise bad(
                    f"m.{level}", m, f"above u.{level} ({u}): agreement must be likelier among duplicates"
                )
        return self


class ReplacedName(PolicyModel):
    """One name part entirely different, matched on the address and the other fields' weight."""

    min_weight: float
    given_name_needs: list[Literal["phone", "email", "company", "birth_date"]] = []
    # a replaced given name does not match when one of these disagrees (twins: another e-mail)
    given_name_vetoed_by: list[Literal["phone", "email", "company", "birth_date"]] = []


class ChangedSurname(PolicyModel):
    """A surname replaced, the given name exact: a match when every field of needs_all and one of
    needs_any agree exactly (duplicates.py _fs_evaluate)."""

    needs_all: list[Literal["phone", "email", "company", "birth_date"]] = []
    needs_any: list[Literal["phone", "email", "company", "birth_date"]] = Field(min_length=1)
    # each record's own surname in its own mailbox at one company ("tbouchard@" / "tbeauchesne@"),
    # no birth date the same: two colleagues of one given name, not a changed surname
    own_mailboxes_veto: bool = False


class DifferentName(PolicyModel):
    """Names that differ, with one of when_present on both sides: one of needs must agree at its
    level (exact or close)."""

    when_present: list[Literal["phone", "email", "birth_date"]] = Field(min_length=1)
    needs: dict[Literal["phone", "email", "birth_date"], Literal["exact", "close"]] = Field(min_length=1)
    transposition_is_slip: bool = False  # two adjacent letters swapped need nothing more
    # a compound surname written with one of its parts (fellegi_sunter.compound_surnames), the
    # same given name and the same company, with every field of when_present that is on both
    # sides agreeing exactly (an office line too) and none disagreeing, needs nothing more: the
    # name written shorter, not another person's (duplicates.py _compound_part_unopposed)
    compound_part_unopposed: bool = False
    # two mailboxes at one domain, both built from the person's name ("harriet@" / "h.moss@"), back
    # the different name as the same e-mail would (duplicates.py _mailboxes_fit_name)
    mailboxes_fit_name: bool = False


class BirthDateConflict(PolicyModel):
    """Birth dates that disagree veto a pair when a field of when_present is on both sides and
    none of them agrees exactly."""

    when_present: list[Literal["phone", "email"]] = Field(min_length=1)
    # birth years this far apart (and not one slip: not a day/month swap, one digit or two
    # adjacent digits transposed) are two generations: vetoed even when a phone agrees (a father
    # and son without suffix on one home phone), unless the e-mail is the same
    generation_years: int | None = Field(default=None, ge=1)


class HouseholdGivenNames(PolicyModel):
    """Two people behind one contact point: given names that disagree with birth dates that
    disagree, or on a household's mailbox (a word of family_mailbox_words in the local part, or
    a word of two or three letters holding both given names' initials), veto the pair."""

    family_mailbox_words: list[str] = []


class Corroboration(PolicyModel):
    """What a person pair with differing names needs beyond the names (duplicates.py _fs_evaluate)."""

    generations: bool = False  # conflicting generational suffixes (Sr. / Jr.) veto the pair
    different_name: DifferentName | None = None
    initial_needs: list[Literal["phone", "email_local", "company_address", "mailbox_fits_name"]] = []
    changed_surname: ChangedSurname | None = None
    birth_date_conflict: BirthDateConflict | None = None
    # e-mails equal but for a number in the local part (a namesake's mailbox) veto the pair unless
    # a phone agrees exactly; needs the object's numbered_mailboxes
    numbered_mailboxes: bool = False
    # a phone line that records of one company give with given names that cannot be one
    # person's (colleagues, siblings) is an office line: it does not corroborate a different name,
    # an initial or a changed surname (duplicates.py office_lines)
    office_lines: bool = False
    # the same person at another employer (company names sharing no word, not an acronym, no
    # common e-mail domain) is another lead: vetoed and kept apart (duplicates.py _other_employer)
    # a generation written on one record only ("Ybarra Jr." / "Ybarra"): two people unless one of
    # these is the same on both (each on both sides being needed to say so)
    one_generation_needs: list[Literal["phone", "email"]] = []
    other_employer: bool = False
    # also companies that share words, each with a word of its own ("Dunmore County Health
    # Department" / "Marlow County ..."), when both e-mails give other domains
    other_employer_words: bool = False
    # contacts at two accounts whose e-mails give two organisations' domains are one person only
    # when one of these agrees exactly (a phone is a switchboard or a sister organisation's line):
    # the labelling policy's "wrong account" duplicate gives the e-mail or the birth date
    other_account_needs: list[Literal["email", "birth_date"]] = []
    # two mailboxes at one domain, each holding its own record's (other) given name: two people
    own_given_name_mailboxes: bool = False
    # disagreeing given names with disagreeing birth dates, or on a household's mailbox, veto
    # the pair (duplicates.py _household_given_names)
    household_given_names: HouseholdGivenNames | None = None


class NameSlip(PolicyModel):
    """A name part one typing slip from the other's (Damerau-Levenshtein 1: a letter changed,
    added or dropped, or two adjacent letters swapped) compares as close instead of disagreeing
    when the street address agrees: the same house number, the street close and the postal code
    or city close (duplicates.py _name_slips)."""

    parts: list[Literal["first_name", "last_name"]] = Field(min_length=1)


class FellegiSunter(PolicyModel):
    """person.fellegi_sunter: per-field agreement levels weighing log2(m/u), summed (duplicates.py)."""

    threshold: float
    fields: dict[FsFieldName, FsField]
    replaced_name: ReplacedName | None = None
    corroboration: Corroboration | None = None
    # a given name and its nickname (the `nicknames` package's table) compare as close
    nicknames: bool = False
    # name -> short forms the package's English table lacks (read only with nicknames: true)
    nickname_supplement: dict[str, list[str]] = {}
    # spellings of one given name across transliterations (Youssef / Yusuf, Mohammed /
    # Muhammad): compared like a name and its nickname (close); read only with nicknames: true
    given_name_variants: list[Annotated[list[str], Field(min_length=2)]] = []
    # a given name of two words or more ("Maria Eduarda", "Jose Antonio") and a short form of one
    # of its words (Duda, Tono) compare as close, like a name and its nickname (duplicates.py
    # _compound_given_short_forms); read only with nicknames: true
    compound_given_names: bool = False
    # two short forms of one name (Liz / Beth of Elizabeth) do not keep two clusters apart
    # (duplicates.py _sibling_short_forms); read only with nicknames: true for the supplement
    sibling_short_forms: bool = False
    # leading surname particles that may be dropped ("von Tessenberg" / "Tessenberg": close);
    # surnames equal without their spaces ("Mac Alderry" / "MacAlderry") are exact whatever this
    # says (duplicates.py _surname_forms)
    surname_particles: list[str] = []
    # one part of a compound / double-barrelled surname is close when the given names agree
    compound_surnames: bool = False
    # ... also when the part is one typing slip from the other's (5+ letters: "Bitencourt" /
    # "Nogueira Bittencourt"); read only with compound_surnames: true
    compound_surname_slip: bool = False
    # a phone written in national form with its trunk 0 and a short national number ("01 555
    # 7720") is the same line as the international form ending with that number ("+234 1 555
    # 7720"): the trunk 0 is left out when normalised and a number of 7 or 8 digits agrees with
    # one ending with it (duplicates.py _national_phone_forms)
    national_phone_forms: bool = False
    # a company written as the other's leading words ("Kestrelby" / "Kestrelby Software") is close
    company_short_form: bool = False
    name_slip: NameSlip | None = None
    # the same house number and the street's first word equal or one slip apart: the street is
    # close whatever the rest of the line (a building or estate line on one side; duplicates.py
    # _same_street_name)
    street_words: bool = False
    # groups of one surname's romanisations (Korean Lim / Im / Yim): close when the e-mail, phone
    # or birth date is the same (duplicates.py _surname_variants)
    surname_variants: list[Annotated[list[str], Field(min_length=2)]] = []

    @model_validator(mode="after")
    def _names_alone_never_match(self) -> FellegiSunter:
        import math

        missing = [f for f in ("first_name", "last_name") if f not in self.fields]
        if missing:
            raise bad(
                "fields", sorted(self.fields), f"first_name and last_name among them (missing {missing})"
            )
        names = sum(
            math.log2(self.fields[f].m.exact / self.fields[f].u.exact) for f in ("first_name", "last_name")
        )
        if self.threshold <= names:
            raise bad(
                "threshold",
                self.threshold,
                f"above the two names' exact weights ({names:.2f}): a shared name alone must not match",
            )
        return self


class PersonPass(PolicyModel):
    """Leads/contacts: names in either order + a contact point that agrees (duplicates.py);
    ``fellegi_sunter``, when set, decides instead of name_min / evidence / weights / min_score."""

    blocking: list[list[str]] = []
    fellegi_sunter: FellegiSunter | None = None
    name_min: float = Field(default=0.88, ge=0, le=1)
    evidence: dict[Literal["email", "phone", "company", "street", "postal_code", "city"], float] = {}
    weights: dict[str, float] = {}
    min_score: float = Field(default=85, ge=0, le=100)
    max_block_size: int = Field(default=1000, ge=2)


class DuplicateRules(PolicyModel):
    fields: dict[str, str]
    # local parts of shared role mailboxes (info@, sales@ ...): such an address is not a person's,
    # so it neither matches nor keeps records apart (its domain still blocks)
    role_mailboxes: list[str] = []
    # keep each e-mail's local-part number apart (alexei.moravec2@): what corroboration's
    # numbered_mailboxes compares
    numbered_mailboxes: bool = False
    # persons: titles removed from the front of the given name ("Dr. Orsolya"); generational
    # suffixes at the end of the surname (variant -> canonical: "jnr" -> "jr") moved to their own
    # column ("Vale Jr." is "Vale" of generation "jr")
    name_titles: list[str] = []
    generations: dict[str, str] = {}
    # persons: surnames that are placeholders ("[not provided]", "n/a"): empty, the given name's
    # last word then the surname when it has two words or more (duplicates.py person_name_forms)
    placeholder_surnames: list[str] = []
    # persons: names in another script compared in Latin letters (text-unidecode)
    transliterate_names: bool = False
    # persons: a name in brackets in the given name is the person's other given name
    bracketed_given_aliases: bool = False
    # persons: leading patronymic particles left out of the surname (Malay bin / binti / bt.) and
    # words written out in it (abd -> abdul)
    patronymic_particles: list[str] = []
    surname_word_forms: dict[str, str] = {}
    # persons: business abbreviations expanded in the company before comparison ("Silverpine CU"
    # = "Silverpine Credit Union"; the accounts' tokens.abbreviations are the same table)
    company_abbreviations: dict[str, str] = {}
    # persons: words left out of the company before comparison ("Fennick and Roe" = "Fennick &
    # Roe"; the accounts' tokens.stopwords are the same list)
    company_stopwords: list[str] = []
    # persons: free-mail domains that ignore dots in the local part (a.b.smith@ = absmith@)
    dotless_email_domains: list[str] = []
    tokens: CompanyTokens | None = None
    person: PersonPass | None = None
    no_chaining: bool = True
    keys: list[list[str]] = []
    blocking: list[list[str]] = []
    weights: dict[str, float] = {}
    min_score: float = Field(default=90, ge=0, le=100)
    field_floor: dict[str, float] = {}
    min_equal_fields: int = Field(default=0, ge=0)
    max_block_size: int = Field(default=2000, ge=2)
    score_chunk_pairs: int = Field(default=1_000_000, ge=1)


class Duplicates(PolicyModel):
    company_suffixes: dict[str, str] = {}
    objects: dict[str, DuplicateRules] = {}


class ScorecardMetric(PolicyModel):
    target: float
    comparator: Literal[">=", ">", "<=", "<"]
    description: str = ""


class Scorecard(PolicyModel):
    new_lead_window_days: int = Field(default=90, ge=1)
    scopes: list[str] = []
    metrics: dict[str, ScorecardMetric] = {}


class TicketRule(PolicyModel):
    name: str = Field(min_length=1)
    severity: Literal["blocker", "warn"] | None = None
    check: str | None = None
    scope_types: list[str] = []
    min_failed: int = Field(default=0, ge=0)
    min_rate: float = Field(default=0, ge=0, le=1)


class Tickets(PolicyModel):
    rules: list[TicketRule] = []
    max_examples: int = Field(default=10, ge=0)


class QualityPolicy(PolicyModel):
    """quality.yaml."""

    as_of: AsOf = AsOf()
    checks: dict[str, CheckModel] = {}
    booking_match: BookingMatch = BookingMatch()
    reconciliation: Reconciliation
    freshness: Freshness = Freshness()
    duplicates: Duplicates = Duplicates()
    scorecard: Scorecard = Scorecard()
    tickets: Tickets = Tickets()

    @model_validator(mode="after")
    def _dimensions_are_metrics(self) -> QualityPolicy:
        for check_id, check in self.checks.items():
            if check.dimension and check.dimension not in self.scorecard.metrics:
                raise bad(
                    f"checks.{check_id}.dimension",
                    check.dimension,
                    f"a scorecard metric (scorecard.metrics: {sorted(self.scorecard.metrics)})",
                )
        known = set(self.checks)
        for i, rule in enumerate(self.tickets.rules):
            if rule.check is not None and rule.check not in known:
                raise bad(f"tickets.rules[{i}].check", rule.check, "a check id of checks")
        return self
