package views

// RegionRow is one region on the overview dashboard.
type RegionRow struct {
	Code, Name              string
	DueDay, CCGs, Practices int
}

// CCGRow is one CCG in a list, or the head of its own page.
type CCGRow struct {
	Code, Name, Region, STP string
	Practices               int
	Patients                int64
	DueDay                  int
	DueDayOverridden        bool
}

// PracticeRow is one GP practice.
type PracticeRow struct {
	Code, Name, Postcode, PCN, Status string
	CCGCode, CCGName                  string
	ListSize                          string // "5,903 (January 2021)" or "Not known"
	OpenDate, CloseDate               string
	ListSizes                         []ListSizeRow // the extracts, newest first (the practice page)
}

// ItemRow is one catalogue item in a list.
type ItemRow struct {
	ID, Name, Kind, SupplierName, SupplierID, Frameworks string
	Prices                                               int
	Published                                            bool
}

// PriceRow is one price of a catalogue item.
type PriceRow struct {
	Price, Per, Provisioning, Calculation string
}

// ItemDetail is a catalogue item's page.
type ItemDetail struct {
	ItemRow
	Parent     *Link
	PriceRows  []PriceRow
	Additional []ItemRow
}

// UserRow is one user on the admin pages.
type UserRow struct {
	ID                     int64
	Email, Name, Role, CCG string
	Active, HasPassword    bool
	Created                string
}

// AuditRow is one entry of the audit log, in words.
type AuditRow struct {
	At, Actor, Action string
	Entity            string // the kind of thing and its id: "Monthly return 16C/2026-11"
	EntityHref        string // the log filtered to that thing
	Changes           []AuditChange
}

// AuditChange is one field of an audit entry, before and after.
type AuditChange struct {
	Field, Before, After string
}

// ReturnSummary is one monthly return as a dashboard shows it.
type ReturnSummary struct {
	Period, PeriodName, Status, DueDate, Href string
	StatusTone                                Tone
	DaysLate, DaysLeft                        int
	Open                                      bool   // the buyer still has to submit it
	SubmitFrom                                string // while its month lasts: the day it can be sent
}
