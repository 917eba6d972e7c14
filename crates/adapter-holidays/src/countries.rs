//! The national public holidays of the EU-27, as rules. Days that always fall on a Sunday
//! (Easter Sunday, Whit Sunday, Lithuania's Mother's Day) or a Saturday (Finland's and
//! Sweden's Midsummer Day and All Saints' Day) are left out: those days are closed anyway.
//! Regional holidays (a German Land, a Spanish community, Alsace-Moselle) are not national;
//! a tenant enters them as its own closing days.

use time::Month::{
    April, August, December, February, January, July, June, March, May, November, October,
    September,
};
use time::Weekday::{Friday, Monday};

use crate::rule::{Rule, When, easter, fixed, orthodox, rule};

const NEW_YEAR: Rule = fixed("New Year's Day", January, 1);
const EPIPHANY: Rule = fixed("Epiphany", January, 6);
const LABOUR_DAY: Rule = fixed("Labour Day", May, 1);
const ASSUMPTION: Rule = fixed("Assumption Day", August, 15);
const ALL_SAINTS: Rule = fixed("All Saints' Day", November, 1);
const IMMACULATE_CONCEPTION: Rule = fixed("Immaculate Conception", December, 8);
const CHRISTMAS_EVE: Rule = fixed("Christmas Eve", December, 24);
const CHRISTMAS: Rule = fixed("Christmas Day", December, 25);
const BOXING_DAY: Rule = fixed("St Stephen's Day", December, 26);

const MAUNDY_THURSDAY: Rule = easter("Maundy Thursday", -3);
const GOOD_FRIDAY: Rule = easter("Good Friday", -2);
const EASTER_MONDAY: Rule = easter("Easter Monday", 1);
const ASCENSION: Rule = easter("Ascension Day", 39);
const WHIT_MONDAY: Rule = easter("Whit Monday", 50);
const CORPUS_CHRISTI: Rule = easter("Corpus Christi", 60);

const ORTHODOX_GOOD_FRIDAY: Rule = orthodox("Good Friday", -2);
const ORTHODOX_EASTER_MONDAY: Rule = orthodox("Easter Monday", 1);
const ORTHODOX_WHIT_MONDAY: Rule = orthodox("Whit Monday", 50);
const CLEAN_MONDAY: Rule = orthodox("Clean Monday", -48);

/// Midsummer Eve: the Friday between 19 and 25 June (Finland, Sweden).
const MIDSUMMER_EVE: Rule = rule("Midsummer Eve", When::WeekdayFrom(June, 19, Friday));

/// The ISO 3166-1 alpha-2 codes of the EU-27, in the order of the table below.
pub const EU27: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The rules of a country (ISO 3166-1 alpha-2), if it is one of the EU-27.
pub fn rules(country: &str) -> Option<&'static [Rule]> {
    Some(match country {
        "AT" => AT,
        "BE" => BE,
        "BG" => BG,
        "CY" => CY,
        "CZ" => CZ,
        "DE" => DE,
        "DK" => DK,
        "EE" => EE,
        "ES" => ES,
        "FI" => FI,
        "FR" => FR,
        "GR" => GR,
        "HR" => HR,
        "HU" => HU,
        "IE" => IE,
        "IT" => IT,
        "LT" => LT,
        "LU" => LU,
        "LV" => LV,
        "MT" => MT,
        "NL" => NL,
        "PL" => PL,
        "PT" => PT,
        "RO" => RO,
        "SE" => SE,
        "SI" => SI,
        "SK" => SK,
        _ => return None,
    })
}

const AT: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    EASTER_MONDAY,
    fixed("Staatsfeiertag", May, 1),
    ASCENSION,
    WHIT_MONDAY,
    CORPUS_CHRISTI,
    ASSUMPTION,
    fixed("Nationalfeiertag", October, 26),
    ALL_SAINTS,
    IMMACULATE_CONCEPTION,
    CHRISTMAS,
    BOXING_DAY,
];

const BE: &[Rule] = &[
    NEW_YEAR,
    EASTER_MONDAY,
    LABOUR_DAY,
    ASCENSION,
    WHIT_MONDAY,
    fixed("National Day", July, 21),
    ASSUMPTION,
    ALL_SAINTS,
    fixed("Armistice Day", November, 11),
    CHRISTMAS,
];

/// Bulgaria (Orthodox Easter). Labour Code Art. 154: the fixed holidays falling on a
/// Saturday or Sunday give the next working day(s) off.
const BG: &[Rule] = &[
    NEW_YEAR.substituted(),
    fixed("Liberation Day", March, 3).substituted(),
    ORTHODOX_GOOD_FRIDAY,
    ORTHODOX_EASTER_MONDAY,
    LABOUR_DAY.substituted(),
    fixed("St George's Day", May, 6).substituted(),
    fixed("Day of Bulgarian Culture and Literacy", May, 24).substituted(),
    fixed("Unification Day", September, 6).substituted(),
    fixed("Independence Day", September, 22).substituted(),
    CHRISTMAS_EVE.substituted(),
    CHRISTMAS.substituted(),
    BOXING_DAY.substituted(),
];

/// Cyprus (Orthodox Easter): the public service's holidays.
const CY: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    CLEAN_MONDAY,
    fixed("Greek Independence Day", March, 25),
    fixed("Cyprus National Day", April, 1),
    ORTHODOX_GOOD_FRIDAY,
    ORTHODOX_EASTER_MONDAY,
    orthodox("Easter Tuesday", 2),
    LABOUR_DAY,
    orthodox("Kataklysmos", 50),
    ASSUMPTION,
    fixed("Cyprus Independence Day", October, 1),
    fixed("Ochi Day", October, 28),
    CHRISTMAS_EVE,
    CHRISTMAS,
    BOXING_DAY,
];

const CZ: &[Rule] = &[
    NEW_YEAR,
    GOOD_FRIDAY,
    EASTER_MONDAY,
    LABOUR_DAY,
    fixed("Liberation Day", May, 8),
    fixed("Saints Cyril and Methodius Day", July, 5),
    fixed("Jan Hus Day", July, 6),
    fixed("Czech Statehood Day", September, 28),
    fixed("Independent Czechoslovak State Day", October, 28),
    fixed("Struggle for Freedom and Democracy Day", November, 17),
    CHRISTMAS_EVE,
    CHRISTMAS,
    BOXING_DAY,
];

/// Germany: the nine nationwide holidays (the Länder add their own).
const DE: &[Rule] = &[
    NEW_YEAR,
    GOOD_FRIDAY,
    EASTER_MONDAY,
    LABOUR_DAY,
    ASCENSION,
    WHIT_MONDAY,
    fixed("Tag der Deutschen Einheit", October, 3),
    CHRISTMAS,
    BOXING_DAY,
];

/// Denmark: Great Prayer Day was abolished from 2024.
const DK: &[Rule] = &[
    NEW_YEAR,
    MAUNDY_THURSDAY,
    GOOD_FRIDAY,
    EASTER_MONDAY,
    easter("Great Prayer Day", 26).until(2023),
    ASCENSION,
    WHIT_MONDAY,
    CHRISTMAS,
    BOXING_DAY,
];

const EE: &[Rule] = &[
    NEW_YEAR,
    fixed("Independence Day", February, 24),
    GOOD_FRIDAY,
    fixed("Spring Day", May, 1),
    fixed("Victory Day", June, 23),
    fixed("Midsummer Day", June, 24),
    fixed("Day of Restoration of Independence", August, 20),
    CHRISTMAS_EVE,
    CHRISTMAS,
    BOXING_DAY,
];

/// Spain: the national holidays (the communities replace or add some).
const ES: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    GOOD_FRIDAY,
    LABOUR_DAY,
    ASSUMPTION,
    fixed("Fiesta Nacional de España", October, 12),
    ALL_SAINTS,
    fixed("Constitution Day", December, 6),
    IMMACULATE_CONCEPTION,
    CHRISTMAS,
];

/// Finland: Midsummer Eve and Christmas Eve close a period under the Act on the calculation
/// of statutory time limits (150/1930).
const FI: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    GOOD_FRIDAY,
    EASTER_MONDAY,
    fixed("May Day", May, 1),
    ASCENSION,
    MIDSUMMER_EVE,
    fixed("Independence Day", December, 6),
    CHRISTMAS_EVE,
    CHRISTMAS,
    BOXING_DAY,
];

/// France: the national holidays (Alsace-Moselle adds Good Friday and 26 December).
const FR: &[Rule] = &[
    NEW_YEAR,
    EASTER_MONDAY,
    LABOUR_DAY,
    fixed("Victoire 1945", May, 8),
    ASCENSION,
    WHIT_MONDAY,
    fixed("Fête nationale", July, 14),
    ASSUMPTION,
    ALL_SAINTS,
    fixed("Armistice 1918", November, 11),
    CHRISTMAS,
];

/// Greece (Orthodox Easter).
const GR: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    CLEAN_MONDAY,
    fixed("Independence Day", March, 25),
    ORTHODOX_GOOD_FRIDAY,
    ORTHODOX_EASTER_MONDAY,
    LABOUR_DAY,
    ORTHODOX_WHIT_MONDAY,
    ASSUMPTION,
    fixed("Ochi Day", October, 28),
    CHRISTMAS,
    BOXING_DAY,
];

/// Croatia: the holidays as changed from 2020.
const HR: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    EASTER_MONDAY,
    LABOUR_DAY,
    fixed("Statehood Day", May, 30).since(2020),
    CORPUS_CHRISTI,
    fixed("Anti-Fascist Struggle Day", June, 22),
    fixed("Statehood Day", June, 25).until(2019),
    fixed("Victory and Homeland Thanksgiving Day", August, 5),
    ASSUMPTION,
    fixed("Independence Day", October, 8).until(2019),
    ALL_SAINTS,
    fixed("Remembrance Day", November, 18).since(2020),
    CHRISTMAS,
    BOXING_DAY,
];

/// Hungary: Good Friday since 2017.
const HU: &[Rule] = &[
    NEW_YEAR,
    fixed("National Day", March, 15),
    GOOD_FRIDAY.since(2017),
    EASTER_MONDAY,
    LABOUR_DAY,
    WHIT_MONDAY,
    fixed("State Foundation Day", August, 20),
    fixed("National Day", October, 23),
    ALL_SAINTS,
    CHRISTMAS,
    BOXING_DAY,
];

/// Ireland: a fixed-date holiday on a weekend gives the next working day instead (as the
/// public service and the banks observe it: St Patrick's Day on a Sunday → Monday).
const IE: &[Rule] = &[
    NEW_YEAR.substituted(),
    rule("St Brigid's Day", When::StBrigid).since(2023),
    fixed("St Patrick's Day", March, 17).substituted(),
    EASTER_MONDAY,
    rule("May Day", When::WeekdayFrom(May, 1, Monday)),
    rule("June Bank Holiday", When::WeekdayFrom(June, 1, Monday)),
    rule("August Bank Holiday", When::WeekdayFrom(August, 1, Monday)),
    rule(
        "October Bank Holiday",
        When::WeekdayFrom(October, 25, Monday),
    ),
    CHRISTMAS.substituted(),
    BOXING_DAY.substituted(),
];

/// Italy: St Francis' Day is a national holiday again from 2026.
const IT: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    EASTER_MONDAY,
    fixed("Liberation Day", April, 25),
    LABOUR_DAY,
    fixed("Republic Day", June, 2),
    ASSUMPTION,
    fixed("St Francis' Day", October, 4).since(2026),
    ALL_SAINTS,
    IMMACULATE_CONCEPTION,
    CHRISTMAS,
    BOXING_DAY,
];

const LT: &[Rule] = &[
    NEW_YEAR,
    fixed("Restoration of the State Day", February, 16),
    fixed("Restoration of Independence Day", March, 11),
    EASTER_MONDAY,
    LABOUR_DAY,
    fixed("St John's Day", June, 24),
    fixed("Statehood Day", July, 6),
    ASSUMPTION,
    ALL_SAINTS,
    fixed("All Souls' Day", November, 2).since(2020),
    CHRISTMAS_EVE,
    CHRISTMAS,
    BOXING_DAY,
];

const LU: &[Rule] = &[
    NEW_YEAR,
    EASTER_MONDAY,
    LABOUR_DAY,
    fixed("Europe Day", May, 9).since(2019),
    ASCENSION,
    WHIT_MONDAY,
    fixed("National Day", June, 23),
    ASSUMPTION,
    ALL_SAINTS,
    CHRISTMAS,
    BOXING_DAY,
];

/// Latvia: 4 May and 18 November on a weekend give the next working day instead.
const LV: &[Rule] = &[
    NEW_YEAR,
    GOOD_FRIDAY,
    EASTER_MONDAY,
    LABOUR_DAY,
    fixed("Restoration of Independence Day", May, 4).substituted(),
    fixed("Līgo Day", June, 23),
    fixed("Jāņi", June, 24),
    fixed("Proclamation Day", November, 18).substituted(),
    CHRISTMAS_EVE,
    CHRISTMAS,
    BOXING_DAY,
    fixed("New Year's Eve", December, 31),
];

const MT: &[Rule] = &[
    NEW_YEAR,
    fixed("St Paul's Shipwreck", February, 10),
    fixed("St Joseph's Day", March, 19),
    GOOD_FRIDAY,
    fixed("Freedom Day", March, 31),
    LABOUR_DAY,
    fixed("Sette Giugno", June, 7),
    fixed("St Peter and St Paul", June, 29),
    ASSUMPTION,
    fixed("Victory Day", September, 8),
    fixed("Independence Day", September, 21),
    IMMACULATE_CONCEPTION,
    fixed("Republic Day", December, 13),
    CHRISTMAS,
];

/// The Netherlands: the days of the Algemene termijnenwet (with Good Friday, equated to them).
const NL: &[Rule] = &[
    NEW_YEAR,
    GOOD_FRIDAY,
    EASTER_MONDAY,
    rule("King's Day", When::KingsDay),
    fixed("Liberation Day", May, 5),
    ASCENSION,
    WHIT_MONDAY,
    CHRISTMAS,
    BOXING_DAY,
];

/// Poland: Christmas Eve is a holiday from 2025.
const PL: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    EASTER_MONDAY,
    LABOUR_DAY,
    fixed("Constitution Day", May, 3),
    CORPUS_CHRISTI,
    ASSUMPTION,
    ALL_SAINTS,
    fixed("Independence Day", November, 11),
    CHRISTMAS_EVE.since(2025),
    CHRISTMAS,
    BOXING_DAY,
];

/// Portugal: four holidays suspended from 2013 to 2015 are back since 2016.
const PT: &[Rule] = &[
    NEW_YEAR,
    GOOD_FRIDAY,
    fixed("Freedom Day", April, 25),
    LABOUR_DAY,
    CORPUS_CHRISTI.since(2016),
    fixed("Portugal Day", June, 10),
    ASSUMPTION,
    fixed("Republic Day", October, 5).since(2016),
    ALL_SAINTS.since(2016),
    fixed("Restoration of Independence", December, 1).since(2016),
    IMMACULATE_CONCEPTION,
    CHRISTMAS,
];

/// Romania (Orthodox Easter): Epiphany and St John's Day since 2024.
const RO: &[Rule] = &[
    NEW_YEAR,
    fixed("Day after New Year's Day", January, 2),
    EPIPHANY.since(2024),
    fixed("St John's Day", January, 7).since(2024),
    fixed("Union Day", January, 24),
    ORTHODOX_GOOD_FRIDAY,
    ORTHODOX_EASTER_MONDAY,
    LABOUR_DAY,
    fixed("Children's Day", June, 1),
    ORTHODOX_WHIT_MONDAY,
    ASSUMPTION,
    fixed("St Andrew's Day", November, 30),
    fixed("National Day", December, 1),
    CHRISTMAS,
    BOXING_DAY,
];

/// Sweden: Midsummer Eve, Christmas Eve and New Year's Eve close a period like a public
/// holiday under the Act on the calculation of statutory periods (1930:173).
const SE: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    GOOD_FRIDAY,
    EASTER_MONDAY,
    LABOUR_DAY,
    ASCENSION,
    fixed("National Day", June, 6),
    MIDSUMMER_EVE,
    CHRISTMAS_EVE,
    CHRISTMAS,
    BOXING_DAY,
    fixed("New Year's Eve", December, 31),
];

/// Slovenia: 2 January again since 2017.
const SI: &[Rule] = &[
    NEW_YEAR,
    fixed("New Year's Day", January, 2).since(2017),
    fixed("Prešeren Day", February, 8),
    EASTER_MONDAY,
    fixed("Day of Uprising Against Occupation", April, 27),
    LABOUR_DAY,
    fixed("Labour Day", May, 2),
    fixed("Statehood Day", June, 25),
    ASSUMPTION,
    fixed("Reformation Day", October, 31),
    ALL_SAINTS,
    CHRISTMAS,
    fixed("Independence and Unity Day", December, 26),
];

const SK: &[Rule] = &[
    NEW_YEAR,
    EPIPHANY,
    GOOD_FRIDAY,
    EASTER_MONDAY,
    LABOUR_DAY,
    fixed("Victory over Fascism Day", May, 8),
    fixed("Saints Cyril and Methodius Day", July, 5),
    fixed("Slovak National Uprising Day", August, 29),
    fixed("Constitution Day", September, 1),
    fixed("Our Lady of Seven Sorrows", September, 15),
    ALL_SAINTS,
    fixed("Struggle for Freedom and Democracy Day", November, 17),
    CHRISTMAS_EVE,
    CHRISTMAS,
    BOXING_DAY,
];
