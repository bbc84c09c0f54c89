//! Public holidays of the German states, computed for any year.
//!
//! Easter-based dates come from the Gregorian computus, so no year is typed in. State rules follow
//! the holiday laws of the states (Feiertagsgesetze), including the years a holiday was introduced.

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A German state, named by its ISO 3166-2 code (`DE-NW`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum GermanState {
    BadenWuerttemberg,
    Bayern,
    Berlin,
    Brandenburg,
    Bremen,
    Hamburg,
    Hessen,
    MecklenburgVorpommern,
    Niedersachsen,
    NordrheinWestfalen,
    RheinlandPfalz,
    Saarland,
    Sachsen,
    SachsenAnhalt,
    SchleswigHolstein,
    Thueringen,
}

use GermanState::*;

impl GermanState {
    pub const ALL: [GermanState; 16] = [
        BadenWuerttemberg,
        Bayern,
        Berlin,
        Brandenburg,
        Bremen,
        Hamburg,
        Hessen,
        MecklenburgVorpommern,
        Niedersachsen,
        NordrheinWestfalen,
        RheinlandPfalz,
        Saarland,
        Sachsen,
        SachsenAnhalt,
        SchleswigHolstein,
        Thueringen,
    ];

    pub fn code(self) -> &'static str {
        match self {
            BadenWuerttemberg => "DE-BW",
            Bayern => "DE-BY",
            Berlin => "DE-BE",
            Brandenburg => "DE-BB",
            Bremen => "DE-HB",
            Hamburg => "DE-HH",
            Hessen => "DE-HE",
            MecklenburgVorpommern => "DE-MV",
            Niedersachsen => "DE-NI",
            NordrheinWestfalen => "DE-NW",
            RheinlandPfalz => "DE-RP",
            Saarland => "DE-SL",
            Sachsen => "DE-SN",
            SachsenAnhalt => "DE-ST",
            SchleswigHolstein => "DE-SH",
            Thueringen => "DE-TH",
        }
    }

    /// The holiday that falls on `date` in this state, if any.
    pub fn holiday_on(self, date: Date) -> Option<Holiday> {
        let year = date.year();
        let (month, day) = (date.month(), date.day());
        let fixed = match (month, day) {
            (1, 1) => Some(Holiday::NewYearsDay),
            (1, 6) if matches!(self, BadenWuerttemberg | Bayern | SachsenAnhalt) => {
                Some(Holiday::Epiphany)
            }
            (3, 8) if self.has_womens_day(year) => Some(Holiday::InternationalWomensDay),
            (5, 1) => Some(Holiday::LabourDay),
            (5, 8) if self == Berlin && (year == 2020 || year == 2025) => {
                Some(Holiday::LiberationDay)
            }
            (8, 15) if self == Saarland => Some(Holiday::AssumptionDay),
            (9, 20) if self == Thueringen && year >= 2019 => Some(Holiday::WorldChildrensDay),
            (10, 3) if year >= 1990 => Some(Holiday::GermanUnityDay),
            (10, 31) if self.has_reformation_day(year) => Some(Holiday::ReformationDay),
            (11, 1)
                if matches!(
                    self,
                    BadenWuerttemberg | Bayern | NordrheinWestfalen | RheinlandPfalz | Saarland
                ) =>
            {
                Some(Holiday::AllSaintsDay)
            }
            (12, 25) => Some(Holiday::ChristmasDay),
            (12, 26) => Some(Holiday::SecondChristmasDay),
            _ => None,
        };
        if fixed.is_some() {
            return fixed;
        }
        if self == Sachsen && is_repentance_day(date) {
            return Some(Holiday::RepentanceAndPrayerDay);
        }
        // Easter-based holidays all fall between 20 March and 25 June.
        if !(3..=6).contains(&month) {
            return None;
        }
        let offset = days_after_easter(date)?;
        match offset {
            -2 => Some(Holiday::GoodFriday),
            0 if self == Brandenburg => Some(Holiday::EasterSunday),
            1 => Some(Holiday::EasterMonday),
            39 => Some(Holiday::AscensionDay),
            49 if self == Brandenburg => Some(Holiday::WhitSunday),
            50 => Some(Holiday::WhitMonday),
            60 if matches!(
                self,
                BadenWuerttemberg
                    | Bayern
                    | Hessen
                    | NordrheinWestfalen
                    | RheinlandPfalz
                    | Saarland
            ) =>
            {
                Some(Holiday::CorpusChristi)
            }
            _ => None,
        }
    }

    fn has_womens_day(self, year: i16) -> bool {
        (self == Berlin && year >= 2019) || (self == MecklenburgVorpommern && year >= 2023)
    }

    fn has_reformation_day(self, year: i16) -> bool {
        match self {
            Brandenburg | MecklenburgVorpommern | Sachsen | SachsenAnhalt | Thueringen => true,
            // Introduced in 2018; 2017 was the 500th anniversary, a holiday in every state once.
            Bremen | Hamburg | Niedersachsen | SchleswigHolstein => year >= 2017,
            _ => year == 2017,
        }
    }
}

impl fmt::Display for GermanState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The code is not one of the 16 `DE-xx` state codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown German state code {0:?} (expected one of DE-BW, DE-BY, DE-BE, DE-BB, DE-HB, DE-HH, DE-HE, DE-MV, DE-NI, DE-NW, DE-RP, DE-SL, DE-SN, DE-ST, DE-SH, DE-TH)"
)]
pub struct UnknownStateCode(pub String);

impl FromStr for GermanState {
    type Err = UnknownStateCode;
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        GermanState::ALL
            .into_iter()
            .find(|state| state.code().eq_ignore_ascii_case(code.trim()))
            .ok_or_else(|| UnknownStateCode(code.to_owned()))
    }
}

impl TryFrom<String> for GermanState {
    type Error = UnknownStateCode;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        code.parse()
    }
}

impl From<GermanState> for String {
    fn from(state: GermanState) -> String {
        state.code().to_owned()
    }
}

/// The public holidays that any German state observes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holiday {
    NewYearsDay,
    Epiphany,
    InternationalWomensDay,
    GoodFriday,
    EasterSunday,
    EasterMonday,
    LabourDay,
    LiberationDay,
    AscensionDay,
    WhitSunday,
    WhitMonday,
    CorpusChristi,
    AssumptionDay,
    WorldChildrensDay,
    GermanUnityDay,
    ReformationDay,
    AllSaintsDay,
    RepentanceAndPrayerDay,
    ChristmasDay,
    SecondChristmasDay,
}

/// Easter Sunday of a Gregorian year (anonymous Gregorian computus, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

fn days_after_easter(date: Date) -> Option<i32> {
    let easter = easter_sunday(date.year())?;
    Some(date.day_of_year() as i32 - easter.day_of_year() as i32)
}

/// Buß- und Bettag: the Wednesday before 23 November, so between 16 and 22 November.
fn is_repentance_day(date: Date) -> bool {
    date.month() == 11 && (16..=22).contains(&date.day()) && date.weekday() == Weekday::Wednesday
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn easter_sunday_matches_known_dates() {
        for (year, month, day) in [
            (2000, 4, 23),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(year), Some(date(year, month, day)), "{year}");
        }
    }

    #[test]
    fn state_codes_round_trip_and_reject_unknown_codes() {
        for state in GermanState::ALL {
            assert_eq!(state.code().parse::<GermanState>(), Ok(state));
        }
        assert!("DE-XX".parse::<GermanState>().is_err());
        assert_eq!("de-nw".parse::<GermanState>(), Ok(NordrheinWestfalen));
    }

    #[test]
    fn repentance_day_is_a_holiday_in_saxony_only() {
        assert_eq!(
            Sachsen.holiday_on(date(2026, 11, 18)),
            Some(Holiday::RepentanceAndPrayerDay)
        );
        assert_eq!(NordrheinWestfalen.holiday_on(date(2026, 11, 18)), None);
    }

    #[test]
    fn reformation_day_depends_on_state_and_year() {
        assert!(Niedersachsen.holiday_on(date(2018, 10, 31)).is_some());
        assert!(Niedersachsen.holiday_on(date(2016, 10, 31)).is_none());
        assert!(NordrheinWestfalen.holiday_on(date(2017, 10, 31)).is_some());
        assert!(NordrheinWestfalen.holiday_on(date(2026, 10, 31)).is_none());
    }
}
