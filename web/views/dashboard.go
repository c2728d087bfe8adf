package views

// BuyerDashboardPage is a buyer's home: their CCG, the return to do now,
// what needs attention this month, and the earlier returns.
type BuyerDashboardPage struct {
	Page    Page
	CCG     CCGRow
	Current *ReturnSummary
	Earlier []ReturnSummary // months before the current return's, newest first
	// Attention: planned services due to go live by the end of MonthName
	// (overdue ones first) and requested changes awaiting their date,
	// each the first of them and how many there are.
	MonthName     string
	DueToGoLive   []DueService
	DueTotal      int
	DueHref       string // the CCG's planned services
	AwaitingDate  []AwaitingChange
	AwaitingTotal int
}

// DueService is a planned service the buyer should see go live.
type DueService struct {
	Ref, Href, Practice, Item, PlannedM1 string
	Overdue                              bool // planned before today and still not live
}

// AwaitingChange is a requested change of an accepted return that still
// waits for its actual date.
type AwaitingChange struct {
	Kind, Practice, Service, Date string
}

// WorkRow is one return on a staff dashboard's list.
type WorkRow struct {
	CCGName, CCGCode, PeriodName, Href, Status, Since string
	StatusTone                                        Tone
	DaysLate                                          int
}

// WorkList is the head of one list of work and how many there are.
type WorkList struct {
	Rows  []WorkRow
	Total int
}

// More is how many of the list are not shown.
func (w WorkList) More() int { return w.Total - len(w.Rows) }

// ReviewerDashboardPage is a reviewer's home: returns awaiting review
// (oldest first), late CCGs, returns sent back and not yet resubmitted,
// and every CCG counted by region.
type ReviewerDashboardPage struct {
	Page                      Page
	Awaiting, Late, SentBack  WorkList
	Regions                   []RegionRow
	TotalCCGs, TotalPractices int
}

// MonthMoney is a month's reconciliation totals on finance's dashboard.
type MonthMoney struct {
	Name, Href, Payable, Held, Adjustments string
	Closable                               bool
}

// FinanceDashboardPage is finance's home: the months ready to close, the
// money of the month to close next and the adjustments waiting.
type FinanceDashboardPage struct {
	Page      Page
	Ready     []ReconMonth
	Next      *MonthMoney
	Adjusting *MonthMoney
}

// UserCount is how many users of a role there are.
type UserCount struct {
	Role                     string
	Active, NoPassword, Gone int
}

// AdminDashboardPage is an admin's home: the last nightly run, the emails
// that failed and the users.
type AdminDashboardPage struct {
	Page        Page
	LastRun     *JobRunRow
	NightlyAt   string
	Failed      []MessageRow
	FailedTotal int
	Users       []UserCount
}
