//! docs/policy.md sections 1, 3 and 6 as tables: business-time arithmetic of the default calendars
//! (`business`: Mon-Fri 08:00-20:00 Europe/Berlin, DE-NW holidays; `always`: 24x7), the holidays
//! of the German states, Easter, extra closed and open dates, and the deadlines of a request.
//!
//! Instants in the tables are written either as Berlin local time (`2026-03-27T19:30`, read the
//! way the policy reads it) or as RFC 3339 with an explicit offset (`2026-12-01T08:00:00Z`);
//! the offset form is used wherever a local time would be ambiguous (the October fold).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::calendar::{
    BusinessCalendar, Calendar, CalendarError, ClosedDays, DailyHours, GermanState, Holiday,
    OpenHours, WeeklyHours, easter_sunday,
};
use domain::deadlines::Request;
use domain::jiff::civil::{Date, DateTime, Weekday, date};
use domain::jiff::tz::TimeZone;
use domain::jiff::{SignedDuration, Timestamp};
use domain::policy::{Channel, Plan, Policy, Priority};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

fn berlin_zone() -> TimeZone {
    TimeZone::get("Europe/Berlin").unwrap()
}

/// An instant written as RFC 3339 with an offset, or as Berlin local time.
fn at(text: &str) -> Timestamp {
    if let Ok(instant) = text.parse::<Timestamp>() {
        return instant;
    }
    let local: DateTime = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    berlin_zone()
        .to_ambiguous_timestamp(local)
        .compatible()
        .unwrap()
}

/// A duration such as "12h", "30m", "1s" or "12h 1s".
fn span(text: &str) -> Duration {
    let signed: SignedDuration = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    Duration::try_from(signed).unwrap()
}

fn policy() -> Policy {
    policy_file::default_policy().unwrap()
}

fn hours(intervals: &[&str]) -> DailyHours {
    DailyHours::new(
        intervals
            .iter()
            .map(|text| text.parse::<OpenHours>().unwrap())
            .collect(),
    )
    .unwrap()
}

fn business_calendar(weekly: WeeklyHours, closed: ClosedDays) -> Calendar {
    Calendar::Business(Box::new(BusinessCalendar::new(
        berlin_zone(),
        weekly,
        closed,
    )))
}

fn shown(instant: Timestamp) -> String {
    instant.to_zoned_datetime(berlin_zone()).to_string()
}

#[test]
fn business_time_is_added_as_the_table_says() {
    let business = policy().business;
    // start, duration, due, why
    #[rustfmt::skip]
    let table = [
        // Spring DST change, Sun 29 March 2026 02:00 CET -> 03:00 CEST.
        ("2026-03-27T19:30", "12h", "2026-03-30T19:30", "Fri CET evening, due Mon in CEST"),
        ("2026-03-27T19:30:00+01:00", "12h", "2026-03-30T17:30:00Z", "the same, in UTC"),
        ("2026-03-27T08:00", "12h", "2026-03-27T20:00", "last full CET business day"),
        ("2026-03-30T08:00", "12h", "2026-03-30T20:00", "first full CEST business day"),
        ("2026-03-30T06:00:00Z", "1s", "2026-03-30T06:00:01Z", "08:00 CEST is 06:00 UTC"),
        ("2026-03-28T12:00", "1h", "2026-03-30T09:00", "weekend of the change"),
        ("2026-03-29T02:30", "30m", "2026-03-30T08:30", "local time in the gap"),
        // Autumn DST change, Sun 25 October 2026 03:00 CEST -> 02:00 CET.
        ("2026-10-23T19:00", "4h", "2026-10-26T11:00", "Fri CEST evening, due Mon in CET"),
        ("2026-10-23T17:00:00Z", "4h", "2026-10-26T10:00:00Z", "the same, in UTC"),
        ("2026-10-23T17:00", "12h", "2026-10-26T17:00", "3h Fri, 9h Mon"),
        ("2026-10-25T02:30:00+02:00", "1h", "2026-10-26T09:00", "first 02:30 of the fold"),
        ("2026-10-25T02:30:00+01:00", "1h", "2026-10-26T09:00", "second 02:30 of the fold"),
        // Friday evening and the weekend.
        ("2026-11-27T19:45", "4h", "2026-11-30T11:45", "worked example: 15m Fri, 3h45m Mon"),
        ("2026-11-27T20:00", "30m", "2026-11-30T08:30", "Fri closing time is outside"),
        ("2026-11-27T23:00", "1h", "2026-11-30T09:00", "Fri night"),
        ("2026-11-28T10:00", "12h", "2026-11-30T20:00", "Sat: one full Monday"),
        ("2026-11-29T23:59:59", "1s", "2026-11-30T08:00:01", "last second of Sunday"),
        // The opening and closing edges.
        ("2026-11-30T08:00", "12h", "2026-11-30T20:00", "closing edge: Mon 20:00, not Tue 08:00"),
        ("2026-11-30T08:00", "12h 1s", "2026-12-01T08:00:01", "one second past the edge"),
        ("2026-11-30T07:59:59", "1s", "2026-11-30T08:00:01", "starts at the opening"),
        ("2026-11-30T19:59:59", "1s", "2026-11-30T20:00", "the last open second"),
        ("2026-11-30T19:59:59", "2s", "2026-12-01T08:00:01", "one second over"),
        ("2026-11-30T20:00", "1s", "2026-12-01T08:00:01", "20:00:00 is outside"),
        ("2026-11-30T08:00", "24h", "2026-12-01T20:00", "two full days"),
        ("2026-11-30T08:00", "60h", "2026-12-04T20:00", "a full week ends on Friday's edge"),
        ("2026-11-30T08:00", "60h 1s", "2026-12-07T08:00:01", "and goes on on Monday"),
        ("2026-11-30T12:00", "36h", "2026-12-03T12:00", "low priority"),
        // Christmas to New Year (24 and 31 December are working days in NRW).
        ("2026-12-23T18:00", "12h", "2026-12-24T18:00", "normal: 2h Wed, 10h Thu 24th"),
        ("2026-12-23T18:00", "36h", "2026-12-29T18:00", "low: 2 + 12 + (25-27 closed) 12 + 10"),
        ("2026-12-24T19:00", "4h", "2026-12-28T11:00", "25th Fri and 26th Sat closed"),
        ("2026-12-25T10:00", "30m", "2026-12-28T08:30", "received on Christmas Day"),
        // The year boundary, and New Year's Day 2027 (a Friday).
        ("2026-12-31T08:00", "12h", "2026-12-31T20:00", "New Year's Eve is open"),
        ("2026-12-31T19:00", "4h", "2027-01-04T11:00", "1h Thu, Fri 1 Jan closed, 3h Mon"),
        ("2026-12-31T20:00", "30m", "2027-01-04T08:30", "from closing time on the 31st"),
        ("2027-01-01T10:00", "12h", "2027-01-04T20:00", "received on New Year's Day"),
        // Easter 2027 falls on the spring DST change: Fri 26 March to Mon 29 March closed.
        ("2027-03-25T19:00", "12h", "2027-03-30T19:00", "1h Thu CET, 11h Tue CEST"),
        ("2027-03-25T18:00:00Z", "12h", "2027-03-30T17:00:00Z", "the same, in UTC"),
        // Non-Berlin offsets denote the same instant (09:00 Berlin on Tue 1 December 2026).
        ("2026-12-01T08:00:00Z", "12h", "2026-12-02T09:00", "UTC"),
        ("2026-12-01T03:00:00-05:00", "12h", "2026-12-02T09:00", "New York"),
        ("2026-12-01T09:00:00+01:00", "12h", "2026-12-02T09:00", "CET"),
        ("2026-07-01T07:00:00+01:00", "1h", "2026-07-01T09:00", "07:00 at UTC+1 is 08:00 CEST"),
    ];
    for (start, duration, due, why) in table {
        let computed = business.add(at(start), span(duration)).unwrap();
        assert_eq!(
            computed,
            at(due),
            "{start} + {duration} ({why}): got {}, want {}",
            shown(computed),
            shown(at(due))
        );
    }
}

#[test]
fn the_always_calendar_adds_real_elapsed_time_across_both_dst_changes() {
    let always = policy().always;
    // start, duration, due, why
    #[rustfmt::skip]
    let table = [
        ("2026-03-29T01:50", "30m", "2026-03-29T03:20", "urgent 24x7: 02:00 CET is 03:00 CEST"),
        ("2026-03-29T00:50:00Z", "30m", "2026-03-29T01:20:00Z", "the same, in UTC"),
        ("2026-03-29T01:00", "4h", "2026-03-29T06:00", "high 24x7 across the gap"),
        ("2026-03-28T20:00", "12h", "2026-03-29T09:00", "12 elapsed hours, 13 on the clock"),
        ("2026-10-25T02:50:00+02:00", "30m", "2026-10-25T02:20:00+01:00", "into the fold"),
        ("2026-10-25T01:30:00+02:00", "2h", "2026-10-25T02:30:00+01:00", "through the fold"),
        ("2026-10-24T20:00", "12h", "2026-10-25T07:00", "12 elapsed hours, 11 on the clock"),
        ("2026-12-31T23:45", "30m", "2027-01-01T00:15", "over the year boundary"),
        ("2026-11-28T10:00", "30m", "2026-11-28T10:30", "worked example: Saturday"),
    ];
    for (start, duration, due, why) in table {
        let computed = always.add(at(start), span(duration)).unwrap();
        assert_eq!(
            computed,
            at(due),
            "{start} + {duration} ({why}): got {}",
            shown(computed)
        );
        assert_eq!(
            always.open_time_between(at(start), computed),
            span(duration),
            "{why}"
        );
    }
}

#[test]
fn the_business_calendar_is_open_exactly_as_the_table_says() {
    let business = policy().business;
    // instant, open, why
    #[rustfmt::skip]
    let table = [
        ("2026-11-30T07:59:59", false, "Mon just before opening"),
        ("2026-11-30T08:00:00", true, "Mon 08:00:00 is inside"),
        ("2026-11-30T12:00:00", true, "Mon noon"),
        ("2026-11-30T19:59:59", true, "Mon 19:59:59 is inside"),
        ("2026-11-30T20:00:00", false, "Mon 20:00:00 is outside"),
        ("2026-11-30T23:59:59", false, "Mon night"),
        ("2026-11-27T19:59:59", true, "Fri last second"),
        ("2026-11-28T12:00:00", false, "Sat"),
        ("2026-11-29T12:00:00", false, "Sun"),
        ("2026-12-25T12:00:00", false, "Christmas Day, a Friday"),
        ("2026-12-24T12:00:00", true, "Christmas Eve is a working day"),
        ("2026-11-30T07:00:00Z", true, "08:00 CET in UTC"),
        ("2026-11-30T06:59:59Z", false, "07:59:59 CET in UTC"),
        ("2026-11-30T19:00:00Z", false, "20:00 CET in UTC"),
        // Summer: a fixed UTC+1 offset would get all of these wrong.
        ("2026-07-01T06:00:00Z", true, "08:00 CEST"),
        ("2026-07-01T05:59:59Z", false, "07:59:59 CEST"),
        ("2026-07-01T17:59:59Z", true, "19:59:59 CEST"),
        ("2026-07-01T18:00:00Z", false, "20:00 CEST"),
        ("2026-07-01T19:30:00+01:00", false, "19:30 at UTC+1 is 20:30 CEST"),
        // Around the DST changes.
        ("2026-03-27T19:59:59", true, "Fri before the spring change, CET"),
        ("2026-03-30T07:59:59", false, "Mon after the spring change, CEST"),
        ("2026-03-30T08:00:00", true, "Mon after the spring change, CEST"),
        ("2026-03-30T07:00:00Z", true, "09:00 CEST, would be 08:00 in CET"),
        ("2026-03-30T06:30:00Z", true, "08:30 CEST, closed on a CET reading"),
        ("2026-10-23T19:59:59", true, "Fri before the autumn change, CEST"),
        ("2026-10-26T07:59:59", false, "Mon after the autumn change, CET"),
        ("2026-10-26T08:00:00", true, "Mon after the autumn change, CET"),
        ("2026-10-26T06:30:00Z", false, "07:30 CET, open on a CEST reading"),
        ("2026-10-26T18:30:00Z", true, "19:30 CET, closed on a CEST reading"),
    ];
    for (instant, open, why) in table {
        assert_eq!(business.is_open(at(instant)), open, "{instant} ({why})");
    }
}

#[test]
fn the_always_calendar_is_open_at_every_instant_and_opens_at_once() {
    let always = policy().always;
    for instant in [
        "2026-11-28T03:00",
        "2026-12-25T12:00",
        "2026-11-30T20:00",
        "2026-03-29T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00",
    ] {
        assert!(always.is_open(at(instant)), "{instant}");
        assert_eq!(
            always.next_opening(at(instant)).unwrap(),
            at(instant),
            "{instant}"
        );
        assert_eq!(
            always.add(at(instant), Duration::ZERO).unwrap(),
            at(instant),
            "{instant}"
        );
    }
}

#[test]
fn the_next_opening_is_as_the_table_says() {
    let business = policy().business;
    // instant, next opening, why
    #[rustfmt::skip]
    let table = [
        ("2026-11-30T08:00", "2026-11-30T08:00", "open: itself"),
        ("2026-11-30T13:14:15", "2026-11-30T13:14:15", "open: itself"),
        ("2026-11-30T07:00", "2026-11-30T08:00", "before opening"),
        ("2026-11-30T19:59:59", "2026-11-30T19:59:59", "last open second"),
        ("2026-11-30T20:00", "2026-12-01T08:00", "at closing time"),
        ("2026-11-27T20:00", "2026-11-30T08:00", "Friday closing"),
        ("2026-11-28T10:00", "2026-11-30T08:00", "Saturday"),
        ("2026-03-28T12:00", "2026-03-30T06:00:00Z", "Monday after the spring change, CEST"),
        ("2026-10-24T12:00", "2026-10-26T07:00:00Z", "Monday after the autumn change, CET"),
        ("2026-04-02T20:00", "2026-04-07T08:00", "Easter: Good Friday to Easter Monday"),
        ("2026-12-24T20:00", "2026-12-28T08:00", "Christmas"),
        ("2026-12-31T20:00", "2027-01-04T08:00", "New Year"),
        ("2026-12-01T07:59:59Z", "2026-12-01T08:59:59", "UTC input"),
        ("2026-12-01T01:00:00-05:00", "2026-12-01T08:00", "New York input: 07:00 Berlin"),
    ];
    for (instant, next, why) in table {
        let computed = business.next_opening(at(instant)).unwrap();
        assert_eq!(
            computed,
            at(next),
            "{instant} ({why}): got {}",
            shown(computed)
        );
        assert_eq!(
            business.add(at(instant), Duration::ZERO).unwrap(),
            computed,
            "{why}"
        );
    }
}

#[test]
fn the_open_time_between_two_instants_is_as_the_table_says() {
    let policy = policy();
    // calendar, from, to, open time, why
    #[rustfmt::skip]
    let table = [
        ("business", "2026-11-30T08:00", "2026-11-30T20:00", "12h", "a full day"),
        ("business", "2026-11-30T07:00", "2026-11-30T21:00", "12h", "night is not counted"),
        ("business", "2026-11-30T08:00", "2026-12-04T20:00", "60h", "a full week"),
        ("business", "2026-11-27T19:00", "2026-11-30T09:00", "2h", "over a weekend"),
        ("business", "2026-03-27T08:00", "2026-03-30T20:00", "24h", "spring change: unaffected"),
        ("business", "2026-10-23T08:00", "2026-10-26T20:00", "24h", "autumn change: unaffected"),
        ("business", "2026-03-30T00:00", "2026-04-13T00:00", "96h", "Easter: 2 x 4 days"),
        ("business", "2026-12-24T00:00", "2027-01-04T00:00", "60h", "24, 28, 29, 30, 31 Dec"),
        ("business", "2026-11-30T12:00", "2026-11-30T12:00", "0s", "empty interval"),
        ("business", "2026-11-30T13:00", "2026-11-30T12:00", "0s", "reversed interval"),
        ("business", "2026-12-01T08:00:00Z", "2026-12-01T04:00:00-05:00", "1h", "mixed offsets"),
        ("always", "2026-03-28T00:00", "2026-03-30T00:00", "47h", "spring weekend: 47 hours"),
        ("always", "2026-10-24T00:00", "2026-10-26T00:00", "49h", "autumn weekend: 49 hours"),
        ("always", "2026-11-30T13:00", "2026-11-30T12:00", "0s", "reversed interval"),
    ];
    for (clock, from, to, open, why) in table {
        let calendar = if clock == "business" {
            &policy.business
        } else {
            &policy.always
        };
        assert_eq!(
            calendar.open_time_between(at(from), at(to)),
            span(open),
            "{clock} {from} .. {to} ({why})"
        );
    }
}

/// The DE-NW holidays of 2026 and 2027: date, holiday, weekday, the last open day before and the
/// first open day after. Seven of them fall on a weekend and cost no business time.
#[rustfmt::skip]
const NRW_HOLIDAYS: [(&str, Holiday, Weekday, &str, &str); 22] = [
    ("2026-01-01", Holiday::NewYearsDay, Weekday::Thursday, "2025-12-31", "2026-01-02"),
    ("2026-04-03", Holiday::GoodFriday, Weekday::Friday, "2026-04-02", "2026-04-07"),
    ("2026-04-06", Holiday::EasterMonday, Weekday::Monday, "2026-04-02", "2026-04-07"),
    ("2026-05-01", Holiday::LabourDay, Weekday::Friday, "2026-04-30", "2026-05-04"),
    ("2026-05-14", Holiday::AscensionDay, Weekday::Thursday, "2026-05-13", "2026-05-15"),
    ("2026-05-25", Holiday::WhitMonday, Weekday::Monday, "2026-05-22", "2026-05-26"),
    ("2026-06-04", Holiday::CorpusChristi, Weekday::Thursday, "2026-06-03", "2026-06-05"),
    ("2026-10-03", Holiday::GermanUnityDay, Weekday::Saturday, "2026-10-02", "2026-10-05"),
    ("2026-11-01", Holiday::AllSaintsDay, Weekday::Sunday, "2026-10-30", "2026-11-02"),
    ("2026-12-25", Holiday::ChristmasDay, Weekday::Friday, "2026-12-24", "2026-12-28"),
    ("2026-12-26", Holiday::SecondChristmasDay, Weekday::Saturday, "2026-12-24", "2026-12-28"),
    ("2027-01-01", Holiday::NewYearsDay, Weekday::Friday, "2026-12-31", "2027-01-04"),
    ("2027-03-26", Holiday::GoodFriday, Weekday::Friday, "2027-03-25", "2027-03-30"),
    ("2027-03-29", Holiday::EasterMonday, Weekday::Monday, "2027-03-25", "2027-03-30"),
    ("2027-05-01", Holiday::LabourDay, Weekday::Saturday, "2027-04-30", "2027-05-03"),
    ("2027-05-06", Holiday::AscensionDay, Weekday::Thursday, "2027-05-05", "2027-05-07"),
    ("2027-05-17", Holiday::WhitMonday, Weekday::Monday, "2027-05-14", "2027-05-18"),
    ("2027-05-27", Holiday::CorpusChristi, Weekday::Thursday, "2027-05-26", "2027-05-28"),
    ("2027-10-03", Holiday::GermanUnityDay, Weekday::Sunday, "2027-10-01", "2027-10-04"),
    ("2027-11-01", Holiday::AllSaintsDay, Weekday::Monday, "2027-10-29", "2027-11-02"),
    ("2027-12-25", Holiday::ChristmasDay, Weekday::Saturday, "2027-12-24", "2027-12-27"),
    ("2027-12-26", Holiday::SecondChristmasDay, Weekday::Sunday, "2027-12-24", "2027-12-27"),
];

#[test]
fn every_nrw_holiday_of_2026_and_2027_is_closed_all_day_and_skipped_by_deadlines() {
    let policy = policy();
    let business = &policy.business;
    let Calendar::Business(calendar) = business else {
        panic!("business calendar expected")
    };
    for (day, holiday, weekday, open_before, open_after) in NRW_HOLIDAYS {
        let day: Date = day.parse().unwrap();
        assert_eq!(day.weekday(), weekday, "{day}");
        assert_eq!(
            GermanState::NordrheinWestfalen.holiday_on(day),
            Some(holiday),
            "{day}"
        );
        assert!(
            calendar.hours_on(day).is_empty(),
            "{day} has no opening hours"
        );
        for time in ["00:00", "08:00", "12:00", "19:59:59"] {
            assert!(
                !business.is_open(at(&format!("{day}T{time}"))),
                "{day} {time} is closed"
            );
        }
        let whole_day = business.open_time_between(
            at(&format!("{day}T00:00")),
            at(&format!("{}T00:00", day.tomorrow().unwrap())),
        );
        assert_eq!(whole_day, Duration::ZERO, "{day} has no open time");
        // A request on the holiday waits for the next open day.
        assert_eq!(
            business.next_opening(at(&format!("{day}T10:00"))).unwrap(),
            at(&format!("{open_after}T08:00")),
            "next opening after {day}"
        );
        assert_eq!(
            business
                .add(at(&format!("{day}T10:00")), span("1h"))
                .unwrap(),
            at(&format!("{open_after}T09:00")),
            "1h from {day}"
        );
        // A deadline running into the holiday jumps over it (and over a weekend next to it).
        assert_eq!(
            business
                .add(at(&format!("{open_before}T19:00")), span("2h"))
                .unwrap(),
            at(&format!("{open_after}T09:00")),
            "2h from the evening before {day}"
        );
    }
    let on_weekends = NRW_HOLIDAYS
        .iter()
        .filter(|(_, _, weekday, _, _)| matches!(weekday, Weekday::Saturday | Weekday::Sunday))
        .map(|(day, _, _, _, _)| *day)
        .collect::<Vec<_>>();
    assert_eq!(
        on_weekends,
        [
            "2026-10-03",
            "2026-11-01",
            "2026-12-26",
            "2027-05-01",
            "2027-10-03",
            "2027-12-25",
            "2027-12-26"
        ]
    );
}

#[test]
fn nrw_has_exactly_the_eleven_listed_holidays_in_2026_and_2027() {
    let mut found = Vec::new();
    let mut day = date(2026, 1, 1);
    while day.year() < 2028 {
        if let Some(holiday) = GermanState::NordrheinWestfalen.holiday_on(day) {
            found.push((day, holiday));
        }
        day = day.tomorrow().unwrap();
    }
    let expected = NRW_HOLIDAYS
        .iter()
        .map(|(day, holiday, _, _, _)| (day.parse::<Date>().unwrap(), *holiday))
        .collect::<Vec<_>>();
    assert_eq!(found, expected);
}

#[test]
fn the_deadlines_of_a_request_are_as_the_table_says() {
    use Channel::*;
    use Plan::*;
    use Priority::*;
    let policy = policy();
    // received, plan, priority, channel, dispatch due, first response due, warning at, out of hours
    #[rustfmt::skip]
    let table = [
        // Spring DST change.
        ("2026-03-27T19:30", Standard, Normal, Ticket, Some("2026-03-30T08:30"), "2026-03-30T19:30", "2026-03-30T16:30", false),
        ("2026-03-29T01:50", Enterprise, Urgent, Ticket, Some("2026-03-30T09:00"), "2026-03-29T03:20", "2026-03-29T03:12:30", true),
        ("2026-03-29T01:50", Standard, Urgent, Ticket, Some("2026-03-30T09:00"), "2026-03-30T08:30", "2026-03-30T08:22:30", true),
        // Autumn DST change, received in the first pass through the fold (CEST).
        ("2026-10-25T01:30:00+02:00", Enterprise, High, Ticket, Some("2026-10-26T09:00"), "2026-10-25T04:30", "2026-10-25T03:30", true),
        ("2026-10-23T19:00", Standard, High, Ticket, Some("2026-10-23T20:00"), "2026-10-26T11:00", "2026-10-26T10:00", false),
        // Friday evening, weekend.
        ("2026-11-27T19:45", Standard, High, Ticket, Some("2026-11-30T08:45"), "2026-11-30T11:45", "2026-11-30T10:45", false),
        ("2026-11-28T10:00", Enterprise, Urgent, Ticket, Some("2026-11-30T09:00"), "2026-11-28T10:30", "2026-11-28T10:22:30", true),
        ("2026-11-28T10:00", Enterprise, Normal, Ticket, Some("2026-11-30T09:00"), "2026-11-30T20:00", "2026-11-30T17:00", true),
        // Edges.
        ("2026-11-30T08:00", Standard, Normal, Ticket, Some("2026-11-30T09:00"), "2026-11-30T20:00", "2026-11-30T17:00", false),
        ("2026-11-30T19:59:59", Standard, Normal, Ticket, Some("2026-12-01T08:59:59"), "2026-12-01T19:59:59", "2026-12-01T16:59:59", false),
        ("2026-11-30T20:00", Standard, Normal, Ticket, Some("2026-12-01T09:00"), "2026-12-01T20:00", "2026-12-01T17:00", true),
        ("2026-11-30T19:00", Standard, Low, Ticket, Some("2026-11-30T20:00"), "2026-12-03T19:00", "2026-12-03T10:00", false),
        // Christmas to New Year, and the year boundary.
        ("2026-12-23T18:00", Standard, Normal, Ticket, Some("2026-12-23T19:00"), "2026-12-24T18:00", "2026-12-24T15:00", false),
        ("2026-12-23T18:00", Standard, Low, Ticket, Some("2026-12-23T19:00"), "2026-12-29T18:00", "2026-12-29T09:00", false),
        ("2026-12-31T19:00", Standard, High, Ticket, Some("2026-12-31T20:00"), "2027-01-04T11:00", "2027-01-04T10:00", false),
        ("2026-12-31T19:00", Enterprise, High, Ticket, Some("2026-12-31T20:00"), "2026-12-31T23:00", "2026-12-31T22:00", false),
        ("2027-01-01T10:00", Standard, Urgent, Ticket, Some("2027-01-04T09:00"), "2027-01-04T08:30", "2027-01-04T08:22:30", true),
        // Good Friday and Easter Monday follow (worked example).
        ("2026-04-02T19:00", Standard, Low, Ticket, Some("2026-04-02T20:00"), "2026-04-09T19:00", "2026-04-09T10:00", false),
        // Chats and voicemails have no dispatch clock.
        ("2026-11-30T10:00", Standard, High, Chat, None, "2026-11-30T14:00", "2026-11-30T13:00", false),
        ("2026-11-28T03:00", Enterprise, Urgent, Phone, None, "2026-11-28T03:30", "2026-11-28T03:22:30", true),
        // Non-Berlin offsets of 09:00 Berlin on Tue 1 December 2026 (worked example).
        ("2026-12-01T08:00:00Z", Standard, Normal, Ticket, Some("2026-12-01T10:00"), "2026-12-02T09:00", "2026-12-01T18:00", false),
        ("2026-12-01T03:00:00-05:00", Standard, Normal, Ticket, Some("2026-12-01T10:00"), "2026-12-02T09:00", "2026-12-01T18:00", false),
        ("2026-12-01T09:00:00+01:00", Standard, Normal, Ticket, Some("2026-12-01T10:00"), "2026-12-02T09:00", "2026-12-01T18:00", false),
    ];
    for (received, plan, priority, channel, dispatch, due, warning, out_of_hours) in table {
        let request = Request {
            received: at(received),
            plan,
            priority,
            channel,
        };
        let deadlines = policy.deadlines(&request).unwrap();
        let case = format!("{received} {plan} {priority} {channel}");
        assert_eq!(
            deadlines.dispatch_due,
            dispatch.map(at),
            "dispatch of {case}"
        );
        assert_eq!(
            deadlines.first_response_due,
            at(due),
            "first response of {case}: got {}",
            shown(deadlines.first_response_due)
        );
        assert_eq!(
            deadlines.first_response_warning_at,
            at(warning),
            "warning of {case}: got {}",
            shown(deadlines.first_response_warning_at)
        );
        assert_eq!(
            deadlines.out_of_hours, out_of_hours,
            "out of hours of {case}"
        );
        let chat_fallback = (channel == Chat).then(|| at(received) + SignedDuration::from_mins(10));
        assert_eq!(
            deadlines.chat_fallback_at, chat_fallback,
            "chat fallback of {case}"
        );
        // The explained form agrees, and its spans add up to the target.
        let explained = policy.explain_deadlines(&request).unwrap();
        assert_eq!(
            explained.first_response.due, deadlines.first_response_due,
            "{case}"
        );
        assert_eq!(
            explained.dispatch.as_ref().map(|e| e.due),
            deadlines.dispatch_due,
            "{case}"
        );
        let consumed = explained
            .first_response
            .spans
            .iter()
            .fold(SignedDuration::ZERO, |sum, span| {
                sum + span.end.duration_since(span.start)
            });
        let target = policy.response_target(priority).duration;
        assert_eq!(
            Duration::try_from(consumed).unwrap(),
            target,
            "spans of {case}"
        );
    }
}

#[test]
fn one_instant_written_with_different_offsets_is_one_instant_with_one_set_of_deadlines() {
    let policy = policy();
    for group in [
        [
            "2026-12-01T08:00:00Z",
            "2026-12-01T03:00:00-05:00",
            "2026-12-01T09:00:00+01:00",
            "2026-12-01T09:00",
        ],
        [
            "2026-07-01T06:00:00Z",
            "2026-07-01T08:00:00+02:00",
            "2026-07-01T07:00:00+01:00",
            "2026-07-01T08:00",
        ],
        [
            "2026-03-29T01:00:00Z",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T02:00:00+01:00",
            "2026-03-28T21:00:00-04:00",
        ],
    ] {
        let first = at(group[0]);
        for text in group {
            assert_eq!(
                at(text),
                first,
                "{text} denotes the same instant as {}",
                group[0]
            );
            for &plan in Plan::ALL {
                for &priority in Priority::ALL {
                    let request = |received| Request {
                        received,
                        plan,
                        priority,
                        channel: Channel::Ticket,
                    };
                    assert_eq!(
                        policy.deadlines(&request(at(text))).unwrap(),
                        policy.deadlines(&request(first)).unwrap(),
                        "{text} {plan} {priority}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_holidays_of_other_states_follow_their_laws() {
    use GermanState::*;
    use Holiday::*;
    // state, date, holiday (None: a working day there), why
    #[rustfmt::skip]
    let table = [
        (Bayern, "2026-01-06", Some(Epiphany), "Epiphany in Bavaria"),
        (BadenWuerttemberg, "2026-01-06", Some(Epiphany), "Epiphany in Baden-Wuerttemberg"),
        (SachsenAnhalt, "2026-01-06", Some(Epiphany), "Epiphany in Saxony-Anhalt"),
        (NordrheinWestfalen, "2026-01-06", None, "no Epiphany in NRW"),
        (Bayern, "2026-08-15", None, "Assumption is not statewide in Bavaria"),
        (Saarland, "2026-08-15", Some(AssumptionDay), "Assumption in Saarland"),
        (Bayern, "2026-11-01", Some(AllSaintsDay), "All Saints in Bavaria"),
        (Hessen, "2026-11-01", None, "no All Saints in Hesse"),
        (Bayern, "2026-06-04", Some(CorpusChristi), "Corpus Christi in Bavaria"),
        (Hessen, "2026-06-04", Some(CorpusChristi), "Corpus Christi in Hesse"),
        (Sachsen, "2026-06-04", None, "Corpus Christi is not statewide in Saxony"),
        (Berlin, "2026-06-04", None, "no Corpus Christi in Berlin"),
        (Sachsen, "2026-11-18", Some(RepentanceAndPrayerDay), "Buss- und Bettag 2026"),
        (Sachsen, "2027-11-17", Some(RepentanceAndPrayerDay), "Buss- und Bettag 2027"),
        (Sachsen, "2022-11-16", Some(RepentanceAndPrayerDay), "23 Nov 2022 was a Wednesday"),
        (Sachsen, "2022-11-23", None, "the Wednesday *before* 23 November"),
        (Bayern, "2026-11-18", None, "Buss- und Bettag only in Saxony"),
        (Berlin, "2019-03-08", Some(InternationalWomensDay), "Women's Day in Berlin from 2019"),
        (Berlin, "2026-03-08", Some(InternationalWomensDay), "Women's Day in Berlin"),
        (Berlin, "2018-03-08", None, "not before 2019"),
        (MecklenburgVorpommern, "2023-03-08", Some(InternationalWomensDay), "MV from 2023"),
        (MecklenburgVorpommern, "2022-03-08", None, "not in MV before 2023"),
        (NordrheinWestfalen, "2026-03-08", None, "no Women's Day in NRW"),
        (Berlin, "2025-05-08", Some(LiberationDay), "80th anniversary, once"),
        (Berlin, "2026-05-08", None, "not a yearly holiday"),
        (Thueringen, "2019-09-20", Some(WorldChildrensDay), "Children's Day in Thuringia from 2019"),
        (Thueringen, "2026-09-20", Some(WorldChildrensDay), "Children's Day in Thuringia"),
        (Thueringen, "2018-09-20", None, "not before 2019"),
        (NordrheinWestfalen, "2026-09-20", None, "no Children's Day in NRW"),
        (Bremen, "2018-10-31", Some(ReformationDay), "Reformation Day in Bremen from 2018"),
        (Bremen, "2026-10-31", Some(ReformationDay), "Reformation Day in Bremen"),
        (Bremen, "2016-10-31", None, "not in Bremen before 2018"),
        (Bremen, "2017-10-31", Some(ReformationDay), "2017: every state, once"),
        (Hamburg, "2018-10-31", Some(ReformationDay), "Hamburg from 2018"),
        (Niedersachsen, "2018-10-31", Some(ReformationDay), "Lower Saxony from 2018"),
        (SchleswigHolstein, "2018-10-31", Some(ReformationDay), "Schleswig-Holstein from 2018"),
        (Thueringen, "2016-10-31", Some(ReformationDay), "Thuringia always"),
        (Brandenburg, "2016-10-31", Some(ReformationDay), "Brandenburg always"),
        (NordrheinWestfalen, "2017-10-31", Some(ReformationDay), "2017 in NRW too"),
        (NordrheinWestfalen, "2026-10-31", None, "not in NRW otherwise"),
        (Brandenburg, "2026-04-05", Some(EasterSunday), "Easter Sunday in Brandenburg"),
        (Brandenburg, "2026-05-24", Some(WhitSunday), "Whit Sunday in Brandenburg"),
        (NordrheinWestfalen, "2026-04-05", None, "Easter Sunday is just a Sunday in NRW"),
        (NordrheinWestfalen, "2026-04-02", None, "Maundy Thursday is a working day"),
        (NordrheinWestfalen, "2026-12-24", None, "Christmas Eve is a working day"),
        (NordrheinWestfalen, "2026-12-31", None, "New Year's Eve is a working day"),
    ];
    for (state, day, holiday, why) in table {
        assert_eq!(
            state.holiday_on(day.parse().unwrap()),
            holiday,
            "{state} {day} ({why})"
        );
    }
}

#[test]
fn nine_holidays_are_kept_in_every_state() {
    // 2027: Easter on 28 March.
    #[rustfmt::skip]
    let table = [
        ("2027-01-01", Holiday::NewYearsDay),
        ("2027-03-26", Holiday::GoodFriday),
        ("2027-03-29", Holiday::EasterMonday),
        ("2027-05-01", Holiday::LabourDay),
        ("2027-05-06", Holiday::AscensionDay),
        ("2027-05-17", Holiday::WhitMonday),
        ("2027-10-03", Holiday::GermanUnityDay),
        ("2027-12-25", Holiday::ChristmasDay),
        ("2027-12-26", Holiday::SecondChristmasDay),
    ];
    for state in GermanState::ALL {
        for (day, holiday) in table {
            assert_eq!(
                state.holiday_on(day.parse().unwrap()),
                Some(holiday),
                "{state} {day}"
            );
        }
    }
}

#[test]
fn a_state_chosen_in_the_calendar_decides_which_days_are_closed() {
    let weekly = WeeklyHours::weekdays(&hours(&["08:00-20:00"]));
    let bavaria = business_calendar(
        weekly.clone(),
        ClosedDays {
            state: Some(GermanState::Bayern),
            ..ClosedDays::default()
        },
    );
    let no_holidays = business_calendar(weekly, ClosedDays::default());
    // Tue 6 January 2026: Epiphany in Bavaria.
    assert!(!bavaria.is_open(at("2026-01-06T12:00")));
    assert!(no_holidays.is_open(at("2026-01-06T12:00")));
    assert_eq!(
        bavaria.add(at("2026-01-05T19:00"), span("2h")).unwrap(),
        at("2026-01-07T09:00")
    );
    // Without holidays, Christmas Day is an ordinary Friday.
    assert!(no_holidays.is_open(at("2026-12-25T12:00")));
}

#[test]
fn easter_sunday_is_right_for_known_years() {
    #[rustfmt::skip]
    let table = [
        (1583, "1583-04-10"),
        (1700, "1700-04-11"),
        (1818, "1818-03-22"),
        (1900, "1900-04-15"),
        (1943, "1943-04-25"),
        (1961, "1961-04-02"),
        (1974, "1974-04-14"),
        (1990, "1990-04-15"),
        (2000, "2000-04-23"),
        (2008, "2008-03-23"),
        (2011, "2011-04-24"),
        (2016, "2016-03-27"),
        (2018, "2018-04-01"),
        (2019, "2019-04-21"),
        (2020, "2020-04-12"),
        (2021, "2021-04-04"),
        (2022, "2022-04-17"),
        (2023, "2023-04-09"),
        (2024, "2024-03-31"),
        (2025, "2025-04-20"),
        (2026, "2026-04-05"),
        (2027, "2027-03-28"),
        (2028, "2028-04-16"),
        (2029, "2029-04-01"),
        (2030, "2030-04-21"),
        (2031, "2031-04-13"),
        (2032, "2032-03-28"),
        (2035, "2035-03-25"),
        (2038, "2038-04-25"),
        (2049, "2049-04-18"),
        (2077, "2077-04-11"),
        (2100, "2100-03-28"),
        (2285, "2285-03-22"),
        (3000, "3000-04-13"),
        (9999, "9999-03-28"),
    ];
    for (year, day) in table {
        assert_eq!(easter_sunday(year), Some(day.parse().unwrap()), "{year}");
    }
}

#[test]
fn easter_sunday_is_a_sunday_between_22_march_and_25_april_in_every_gregorian_year() {
    for year in 1583..=9999 {
        let easter = easter_sunday(year).unwrap();
        assert_eq!(easter.weekday(), Weekday::Sunday, "{year}");
        assert!(
            date(year, 3, 22) <= easter && easter <= date(year, 4, 25),
            "{year}: {easter}"
        );
    }
}

/// Mon-Fri 08:00-20:00 with DE-NW holidays, closed on 24 and 31 December 2026 and on Monday
/// 7 December 2026, open on Sunday 27 December 10:00-14:00 and on Ascension Day 2026 with split
/// hours.
fn company_calendar() -> Calendar {
    let closed = ClosedDays {
        state: Some(GermanState::NordrheinWestfalen),
        extra_closed: BTreeSet::from([date(2026, 12, 7), date(2026, 12, 24), date(2026, 12, 31)]),
        extra_open: BTreeMap::from([
            (date(2026, 12, 27), hours(&["10:00-14:00"])),
            (date(2026, 5, 14), hours(&["09:00-12:00", "13:00-15:00"])),
        ]),
    };
    business_calendar(WeeklyHours::weekdays(&hours(&["08:00-20:00"])), closed)
}

#[test]
fn extra_closed_and_extra_open_dates_change_the_calendar_as_the_table_says() {
    let company = company_calendar();
    // instant, open, why
    #[rustfmt::skip]
    let table = [
        ("2026-12-24T12:00", false, "extra closed Thursday"),
        ("2026-12-31T12:00", false, "extra closed Thursday"),
        ("2026-12-07T08:00", false, "extra closed Monday"),
        ("2026-12-08T08:00", true, "the day after is open"),
        ("2026-12-27T09:59:59", false, "extra open Sunday, before its hours"),
        ("2026-12-27T10:00", true, "extra open Sunday"),
        ("2026-12-27T14:00", false, "extra open Sunday, closing edge"),
        ("2026-05-14T08:30", false, "extra open holiday, before its own hours"),
        ("2026-05-14T09:00", true, "extra open holiday: its hours win over the holiday"),
        ("2026-05-14T12:30", false, "lunch break"),
        ("2026-05-14T13:00", true, "after lunch"),
        ("2026-05-14T15:00", false, "closing edge of the short day"),
        ("2026-12-25T12:00", false, "Christmas stays closed"),
    ];
    for (instant, open, why) in table {
        assert_eq!(company.is_open(at(instant)), open, "{instant} ({why})");
    }
    // start, duration, due, why
    #[rustfmt::skip]
    let table = [
        ("2026-12-23T18:00", "12h", "2026-12-28T14:00", "2h Wed, 4h Sun 27th, 6h Mon"),
        ("2026-12-23T18:00", "6h", "2026-12-27T14:00", "lands on the Sunday closing edge"),
        ("2026-12-30T19:00", "4h", "2027-01-04T11:00", "31st extra closed, 1 Jan holiday"),
        ("2026-12-04T19:00", "2h", "2026-12-08T09:00", "Friday, weekend, closed Monday"),
        ("2026-05-13T19:00", "3h", "2026-05-14T11:00", "into the extra open holiday"),
        ("2026-05-13T19:00", "5h", "2026-05-14T14:00", "over its lunch break"),
        ("2026-05-13T19:00", "7h", "2026-05-15T09:00", "past its short day"),
    ];
    for (start, duration, due, why) in table {
        let computed = company.add(at(start), span(duration)).unwrap();
        assert_eq!(
            computed,
            at(due),
            "{start} + {duration} ({why}): got {}",
            shown(computed)
        );
        assert_eq!(
            company.open_time_between(at(start), computed),
            span(duration),
            "{why}"
        );
    }
    assert_eq!(
        company.open_time_between(at("2026-12-21T00:00"), at("2027-01-04T00:00")),
        span("76h"),
        "21-23 Dec 36h, Sunday 27 Dec 4h, 28-30 Dec 36h"
    );
}

#[test]
fn a_calendar_open_around_the_clock_counts_23_and_25_hours_on_the_dst_sundays() {
    let all_day = hours(&["00:00-24:00"]);
    let every_day = business_calendar(
        WeeklyHours::new([(); 7].map(|()| all_day.clone())),
        ClosedDays::default(),
    );
    let always = policy().always;
    // from, to, open time
    #[rustfmt::skip]
    let table = [
        ("2026-03-29T00:00", "2026-03-30T00:00", "23h"),
        ("2026-10-25T00:00", "2026-10-26T00:00", "25h"),
        ("2026-03-28T00:00", "2026-03-29T00:00", "24h"),
    ];
    for (from, to, open) in table {
        assert_eq!(
            every_day.open_time_between(at(from), at(to)),
            span(open),
            "{from}"
        );
        assert_eq!(
            always.open_time_between(at(from), at(to)),
            span(open),
            "{from}"
        );
    }
    #[rustfmt::skip]
    let table = [
        ("2026-03-29T01:50", "30m"),
        ("2026-03-28T20:00", "12h"),
        ("2026-10-25T01:30:00+02:00", "2h"),
        ("2026-10-24T23:00", "26h"),
        ("2026-03-28T23:59:59", "1s"),
        ("2026-03-28T12:00", "12h"),
    ];
    for (start, duration) in table {
        assert_eq!(
            every_day.add(at(start), span(duration)).unwrap(),
            always.add(at(start), span(duration)).unwrap(),
            "{start} + {duration}"
        );
    }
}

#[test]
fn a_calendar_with_no_open_time_fails_with_no_open_time_instead_of_hanging() {
    let started = Instant::now();
    let never = business_calendar(WeeklyHours::default(), ClosedDays::default());
    let from = at("2026-11-30T08:00");
    assert_eq!(
        never.add(from, span("1h")),
        Err(CalendarError::NoOpenTime { from })
    );
    assert_eq!(
        never.add(from, Duration::ZERO),
        Err(CalendarError::NoOpenTime { from })
    );
    assert_eq!(
        never.next_opening(from),
        Err(CalendarError::NoOpenTime { from })
    );
    assert!(!never.is_open(from));
    assert_eq!(
        never.open_time_between(from, at("2027-11-30T08:00")),
        Duration::ZERO
    );
    let message = never.add(from, span("1h")).unwrap_err().to_string();
    assert!(
        message.contains("no open time within 366 days"),
        "{message}"
    );

    // Only an extra open date in the past: closed for good.
    let past_only = business_calendar(
        WeeklyHours::default(),
        ClosedDays {
            extra_open: BTreeMap::from([(date(2025, 6, 2), hours(&["08:00-20:00"]))]),
            ..ClosedDays::default()
        },
    );
    assert_eq!(
        past_only.add(from, span("1h")),
        Err(CalendarError::NoOpenTime { from })
    );

    // One extra open date within the year is found; one past the search limit is not.
    let once = |day| {
        business_calendar(
            WeeklyHours::default(),
            ClosedDays {
                extra_open: BTreeMap::from([(day, hours(&["10:00-11:00"]))]),
                ..ClosedDays::default()
            },
        )
    };
    assert_eq!(
        once(date(2027, 9, 1)).add(from, span("30m")).unwrap(),
        at("2027-09-01T10:30")
    );
    assert_eq!(
        once(date(2028, 1, 2)).add(from, span("30m")),
        Err(CalendarError::NoOpenTime { from })
    );
    // Open time that runs out: the error names where the search for more began.
    assert_eq!(
        once(date(2026, 12, 1)).add(from, span("2h")),
        Err(CalendarError::NoOpenTime {
            from: at("2026-12-01T11:00")
        })
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the search is bounded"
    );
}

#[test]
fn a_target_longer_than_a_year_of_calendar_time_still_finds_its_deadline() {
    // 5000 business hours are about 417 business days, more than a year of calendar time.
    // The search limit is for calendars without open time, not for long targets.
    let business = policy().business;
    let start = at("2026-01-05T08:00");
    let due = business.add(start, span("5000h")).unwrap();
    assert_eq!(business.open_time_between(start, due), span("5000h"));
    let mut stepwise = start;
    for _ in 0..50 {
        stepwise = business.add(stepwise, span("100h")).unwrap();
    }
    assert_eq!(due, stepwise);
    assert!(business.is_open(due - SignedDuration::from_secs(1)));
}

#[test]
fn a_deadline_on_a_closing_edge_stays_there_but_adding_nothing_to_it_moves_to_the_next_opening() {
    // docs/policy.md section 1: Mon 08:00 + 12h = Mon 20:00; `t + 0` is the next opening of t.
    // So add(add(t, a), b) == add(t, a + b) holds for every b > 0, but not for b = 0 when
    // add(t, a) is a closing edge: that is the definition of zero duration, not a bug.
    let business = policy().business;
    let monday = at("2026-11-30T08:00");
    let edge = business.add(monday, span("12h")).unwrap();
    assert_eq!(edge, at("2026-11-30T20:00"));
    assert_eq!(
        business.add(edge, span("1s")).unwrap(),
        business.add(monday, span("12h 1s")).unwrap()
    );
    assert_eq!(
        business.add(edge, Duration::ZERO).unwrap(),
        at("2026-12-01T08:00")
    );
    assert_eq!(
        business.add(monday, span("12h") + Duration::ZERO).unwrap(),
        at("2026-11-30T20:00")
    );
    // The explained spans stop at the edge too.
    let (due, spans) = business.add_explained(monday, span("12h")).unwrap();
    assert_eq!(due, edge);
    assert_eq!(spans.len(), 1);
    assert_eq!((spans[0].start, spans[0].end), (monday, edge));
}

#[test]
fn an_interval_ending_in_the_spring_dst_gap_does_not_count_the_following_open_time_twice() {
    // On Sunday 28 March 2027 local 02:00-03:00 does not exist. The interval 00:00-02:45 ends
    // at 03:45 CEST (02:45 resolved one gap later), after 03:00-05:00 has begun: the day is open
    // from 00:00 CET (23:00 UTC) to 05:00 CEST (03:00 UTC) without a break, 4 hours.
    let night_shift = business_calendar(
        WeeklyHours::default(),
        ClosedDays {
            extra_open: BTreeMap::from([(
                date(2027, 3, 28),
                hours(&["00:00-02:45", "03:00-05:00"]),
            )]),
            ..ClosedDays::default()
        },
    );
    let midnight = at("2027-03-28T00:00");
    assert_eq!(midnight, at("2027-03-27T23:00:00Z"));
    assert_eq!(
        night_shift.open_time_between(midnight, at("2027-03-29T00:00")),
        span("4h")
    );
    // start, duration, due
    #[rustfmt::skip]
    let table = [
        ("2027-03-28T00:00", "2h 45m", "2027-03-28T03:45"),
        ("2027-03-28T00:00", "2h 50m", "2027-03-28T03:50"),
        ("2027-03-28T00:00", "4h", "2027-03-28T05:00"),
        ("2027-03-28T03:30", "30m", "2027-03-28T04:00"),
    ];
    for (start, duration, due) in table {
        let computed = night_shift.add(at(start), span(duration)).unwrap();
        assert_eq!(
            computed,
            at(due),
            "{start} + {duration}: got {}",
            shown(computed)
        );
        assert_eq!(
            night_shift.open_time_between(at(start), computed),
            span(duration)
        );
    }
    for instant in [
        "2027-03-28T01:30",
        "2027-03-28T03:15",
        "2027-03-28T03:50",
        "2027-03-28T04:59:59",
    ] {
        assert!(night_shift.is_open(at(instant)), "{instant}");
    }
    assert!(!night_shift.is_open(at("2027-03-28T05:00")));
}
