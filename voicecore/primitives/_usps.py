"""USPS Publication 28 standard abbreviations: street suffixes (appendix C1), secondary unit
designators (C2), directionals (section 233) and states and possessions (appendix B).

Each table maps every form a caller says or an ASR writes (lower case, possibly several words)
to its standard abbreviation; a second one says each abbreviation back in full. The suffix
table is the common part of C1 (the suffixes of most US street names), not its ~200 entries.
"""

from __future__ import annotations

__all__ = [
    "DIRECTIONS",
    "DIRECTION_NAMES",
    "STATES",
    "STATE_NAMES",
    "SUFFIXES",
    "SUFFIX_NAMES",
    "UNITS",
    "UNIT_NAMES",
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
