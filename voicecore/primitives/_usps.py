"""USPS Publication 28 standard abbreviations: street suffixes (appendix C1), secondary unit
designators (C2), directionals (section 233) and states and possessions (appendix B); and the
ZIP codes' first three digits each state's post offices use (``zip_states``).

Each table maps every form a caller says or an ASR writes (lower case, possibly several words)
to its standard abbreviation; a second one says each abbreviation back in full. The suffix
table is the common part of C1 (the suffixes of most US street names), not its ~200 entries.
"""

from __future__ import annotations

__all__ = [
    "DIRECTIONS",
    "DIRECTION_NAMES",
    "HIGHWAYS",
    "STATES",
    "STATE_NAMES",
    "SUFFIXES",
    "SUFFIX_NAMES",
    "UNITS",
    "UNIT_NAMES",
    "zip_states",
]


def _table(rows: str) -> tuple[dict[str, str], dict[str, str]]:
    """ "Full Name|ABBR|variant,variant" rows -> (each lower-case form -> ABBR, ABBR -> name).

    The full name and the abbreviation are forms too.
    """
    forms: dict[str, str] = {}
    names: dict[str, str] = {}
    for row in rows.strip().splitlines():
        name, code, variants = row.split("|")
        names[code] = name
        for form in (name, code, *filter(None, variants.split(","))):
            forms[form.lower()] = code
    return forms, names


SUFFIXES, SUFFIX_NAMES = _table(
    """
Alley|ALY|allee,ally
Avenue|AVE|av,aven,avenu,avn,avnue
Bend|BND|
Boulevard|BLVD|boul,boulv
Bridge|BRG|brdge
Bypass|BYP|bypa,bypas,byps
Canyon|CYN|canyn,cnyn
Causeway|CSWY|causwa
Center|CTR|cen,cent,centr,centre,cnter,cntr
Circle|CIR|circ,circl,crcl,crcle
Court|CT|crt
Cove|CV|
Creek|CRK|
Crossing|XING|crssng
Drive|DR|driv,drv
Expressway|EXPY|exp,expr,express,expw
Freeway|FWY|freewy,frway,frwy
Garden|GDN|gardn,grden,grdn
Gardens|GDNS|grdns
Grove|GRV|grov
Harbor|HBR|harb,harbr,hrbr
Heights|HTS|ht
Highway|HWY|highwy,hiway,hiwy,hway
Hill|HL|
Hills|HLS|
Hollow|HOLW|hllw,hollows,holws
Junction|JCT|jction,jctn,junctn,juncton
Lake|LK|
Lakes|LKS|
Landing|LNDG|lndng
Lane|LN|
Loop|LOOP|loops
Meadows|MDWS|mdw,medows
Mill|ML|
Mount|MT|mnt
Mountain|MTN|mntain,mntn,mountin,mtin
Parkway|PKWY|parkwy,pkway,pky
Park|PARK|prk
Pass|PASS|
Path|PATH|paths
Pike|PIKE|pikes
Place|PL|
Plaza|PLZ|plza
Point|PT|
Port|PRT|
Ridge|RDG|rdge
River|RIV|rvr,rivr
Road|RD|
Row|ROW|
Run|RUN|
Shore|SHR|shoar
Springs|SPGS|spngs,sprngs
Square|SQ|sqr,sqre,squ
Station|STA|statn,stn
Street|ST|str,strt
Terrace|TER|terr
Trail|TRL|trails,trls
Turnpike|TPKE|trnpk,turnpk
Valley|VLY|vally,vlly
View|VW|
Village|VLG|vill,villag,villg
Way|WAY|wy
"""
)

UNITS, UNIT_NAMES = _table(
    """
Apartment|APT|
Building|BLDG|bldg
Department|DEPT|
Floor|FL|
Hangar|HNGR|
Lot|LOT|
Pier|PIER|
Room|RM|
Slip|SLIP|
Space|SPC|
Suite|STE|
Trailer|TRLR|
Unit|UNIT|
"""
)
"""The designators that a number or letter follows (C2's "requires secondary range")."""

DIRECTIONS, DIRECTION_NAMES = _table(
    """
North|N|
South|S|
East|E|
West|W|
Northeast|NE|north east,north-east
Northwest|NW|north west,north-west
Southeast|SE|south east,south-east
Southwest|SW|south west,south-west
"""
)

HIGHWAYS: dict[str, str] = {
    form: kind
    for kind, forms in {
        "Highway": "highway,hwy,hiway",
        "Route": "route,rte",
        "State Highway": "state highway,state hwy",
        "State Route": "state route,state rte,sr",
        "State Road": "state road,state rd",
        "County Road": "county road,county rd,cr",
        "County Highway": "county highway,county hwy",
        "County Route": "county route",
        "US Highway": "us highway,u.s highway,u s highway,us hwy,united states highway",
        "US Route": "us route,u.s route,u s route",
        "Interstate": "interstate",
        "Farm to Market Road": "farm to market road,farm to market,fm",
        "Ranch Road": "ranch road",
    }.items()
    for form in forms.split(",")
}
"""Highway-style streets (section 24, "highway" addresses): each way a caller says or an ASR
writes the kind of route before its number, to its form in full, as Publication 28 keeps it
("State Route 9", "County Road 12", "US Highway 101"; never "SR 9")."""

STATES, STATE_NAMES = _table(
    """
Alabama|AL|
Alaska|AK|
Arizona|AZ|
Arkansas|AR|
California|CA|calif
Colorado|CO|
Connecticut|CT|
Delaware|DE|
District of Columbia|DC|d.c
Florida|FL|
Georgia|GA|
Hawaii|HI|
Idaho|ID|
Illinois|IL|
Indiana|IN|
Iowa|IA|
Kansas|KS|
Kentucky|KY|
Louisiana|LA|
Maine|ME|
Maryland|MD|
Massachusetts|MA|mass
Michigan|MI|
Minnesota|MN|
Mississippi|MS|
Missouri|MO|
Montana|MT|
Nebraska|NE|
Nevada|NV|
New Hampshire|NH|
New Jersey|NJ|
New Mexico|NM|
New York|NY|
North Carolina|NC|
North Dakota|ND|
Ohio|OH|
Oklahoma|OK|
Oregon|OR|
Pennsylvania|PA|
Rhode Island|RI|
South Carolina|SC|
South Dakota|SD|
Tennessee|TN|
Texas|TX|
Utah|UT|
Vermont|VT|
Virginia|VA|
Washington|WA|
West Virginia|WV|
Wisconsin|WI|
Wyoming|WY|
American Samoa|AS|
Guam|GU|
Northern Mariana Islands|MP|
Puerto Rico|PR|
Virgin Islands|VI|us virgin islands
"""
)


# The first three digits of the ZIP codes of each state (USPS's sectional center prefixes), as
# ranges. A few prefixes serve two states (733: Austin's IRS in Texas inside Oklahoma's 730-749;
# 063: Fishers Island, New York, inside Connecticut's 060-069). Military (AA, AE, AP) and the
# Pacific freely associated states are left out: their ZIPs name no state of this table.
_ZIP_PREFIXES = """
AL 350-369
AK 995-999
AZ 850-865
AR 716-729
CA 900-961
CO 800-816
CT 060-069
DE 197-199
DC 200-205 569
FL 320-339 341-349
GA 300-319 398-399
HI 967-968
ID 832-838
IL 600-629
IN 460-479
IA 500-528
KS 660-679
KY 400-427
LA 700-714
ME 039-049
MD 206-219
MA 010-027 055
MI 480-499
MN 550-567
MS 386-397
MO 630-658
MT 590-599
NE 680-693
NV 889-898
NH 030-038
NJ 070-089
NM 870-884
NY 005 063 100-149
NC 270-289
ND 580-588
OH 430-459
OK 730-749
OR 970-979
PA 150-196
RI 028-029
SC 290-299
SD 570-577
TN 370-385
TX 733 750-799 885
UT 840-847
VT 050-054 056-059
VA 201 220-246
WA 980-994
WV 247-268
WI 530-549
WY 820-831
AS 967
GU 969
MP 969
PR 006-007 009
VI 008
"""


def _states_by_prefix(rows: str) -> dict[str, frozenset[str]]:
    """ "ST 100-149 005" rows -> each three-digit prefix -> the states that use it."""
    states: dict[str, set[str]] = {}
    for row in rows.strip().splitlines():
        state, *spans = row.split()
        for span in spans:
            first, _, last = span.partition("-")
            for prefix in range(int(first), int(last or first) + 1):
                states.setdefault(f"{prefix:03d}", set()).add(state)
    return {prefix: frozenset(named) for prefix, named in states.items()}


_STATES_BY_PREFIX = _states_by_prefix(_ZIP_PREFIXES)


def zip_states(zip_code: str) -> frozenset[str]:
    """The states whose post offices use ``zip_code``'s first three digits; none when no
    state of the table does (a military ZIP, an unused prefix)."""
    return _STATES_BY_PREFIX.get(zip_code[:3], frozenset())
