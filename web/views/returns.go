package views

import (
	"strconv"
	"strings"
)

// ReturnRow is one monthly Order Tracker return in a list, or the head of
// its own page.
type ReturnRow struct {
	Href                     string
	CCGCode, CCGName, Region string
	Period, PeriodName       string
	PeriodEnd                string // the month's last day, in words
	Status                   string
	StatusTone               Tone
	DueDate, Submitted       string
	Timing                   string // "3 days left", "5 days late", "On time"
	Late                     bool
	Submissions              int
}

// ReturnCount is how many returns of a period have one status, linking to
// the list filtered by it.
type ReturnCount struct {
	Label, Href string
	Count       int
	Current     bool
}

// ReturnView is a return's page (the buyer's), its check-your-answers
// page, its review page (the reviewer's) and its versions page.
type ReturnView struct {
	ReturnRow
	Version   int
	NilReturn bool
	// AuditID names the return in the audit log (tracker.Return.AuditID).
	AuditID string
	// The reviewer's word when the return was sent back.
	ReviewComment, ReviewedBy, ReviewedAt string
	ShowReview                            bool
	// CanEdit: a buyer of the CCG, and the return takes changes.
	CanEdit bool
	// CanReview: a reviewer, and the return is submitted.
	CanReview bool
	// IsReviewer links the buyer's page to the review page.
	IsReviewer bool
	// Services is one page of the services planned or active in the
	// month, those matching ServiceSearch; ServicePager links the pages.
	Services      []ReturnService
	ServiceSearch string
	ServicePager  Pager
	// ServiceFilter holds the services' filters (ServiceSearchInput,
	// ServiceStateInput, ServiceItemInput) with their options;
	// ServiceFiltered says in words what they narrow to, "" for nothing.
	ServiceFilter   Form
	ServiceStates   []Option
	ServiceItems    []Option
	ServiceFiltered string
	// Attention is what needs the buyer this month, for an open return's
	// buyers only.
	Attention ReturnAttention
	Pending   []LineView // requested earlier, awaiting their actual date
	Lines     []LineView
	// The add-a-change form, in two steps: first the practice, then the
	// change with that practice's services.
	LinePractice LinePractice
	AddForm      LineFormView
	// Problems are what stops a submission ("check your answers").
	Problems []string
	// SubmitFrom is the day the return can be sent ("1 December 2026")
	// while its month lasts, "" once it has ended.
	SubmitFrom string
	// Changed are the ledger rows of the services the lines name, as they
	// are now: after acceptance, the result.
	Changed []LedgerRow
	// Proposals are the changes an ODS import found at the CCG's practices.
	Proposals ProposalsView
}

// ReturnService is a service of the return's table; Report opens the
// add-a-change form at it, for the return's buyers.
type ReturnService struct {
	LedgerRow
	Report string
}

// LinePractice is the first step of the add-a-change form: the practice.
// Code is set once one is chosen; until then Search is what was typed and
// Matches the practices it matched, More how many more did.
type LinePractice struct {
	Code, Name string
	Change     string // the link back to the first step
	Search     string
	Searched   bool
	Matches    []Link
	More       int
}

// LineView is one change line of a return.
type LineView struct {
	ID                            int64
	Number                        int
	Kind, KindName                string
	Practice, Service, NewService string
	Targets, Corrects, Date, Note string
	ReviewerComment               string
	Requested, Carried            bool
	Checks                        []string // the reviewer's automatic checks
}

// FormID is the id of the form confirming a pending line, and the prefix
// of its date input's names.
func (l LineView) FormID() string { return PendingFormID(l.ID) }

// pendingPrefix begins the ids of the requested changes' confirmations.
const pendingPrefix = "pending-"

// PendingFormID is the id of the card and form confirming the requested
// change id: a problem with the confirmation is shown beside it.
func PendingFormID(id int64) string { return pendingPrefix + strconv.FormatInt(id, 10) }

// PendingDateInput is the name of the actual-date input confirming the
// requested change id (its parts are name-day, name-month, name-year).
func PendingDateInput(id int64) string { return PendingFormID(id) + "-date" }

// IsPendingInput reports whether input belongs to a requested change's
// confirmation.
func IsPendingInput(input string) bool { return strings.HasPrefix(input, pendingPrefix) }

// The inputs of a return's page that the handlers read or point at.
const (
	// ReturnStatusID is the return's status at the top of its pages: a
	// refusal of a whole action (the return changed meanwhile) is shown
	// against it.
	ReturnStatusID = "return-status"
	// CarriedFromInput names the requested change a confirmation confirms.
	CarriedFromInput = "carried-from"
	// ReviewCommentInput is the reviewer's comment on the whole return.
	ReviewCommentInput = "comment"
	// UploadFileInput is the file of changes uploaded to the return.
	UploadFileInput = "file"
)

// The inputs of the returns' lists, the performance page and the issuing
// form, shared by the handlers and the forms.
const (
	PeriodInput = "period" // a month, as 2026-11
	// IssueConfirmInput is "yes" when the admin has confirmed issuing a
	// past month's returns.
	IssueConfirmInput = "confirm"
	RegionInput       = "region"
	StatusInput       = "status"
	SortInput         = "sort"
)

// LineCommentInput is the reviewer's comment on the line id.
func LineCommentInput(id int64) string { return "comment-" + strconv.FormatInt(id, 10) }

// OptionGroup is a labelled group of a select's options.
type OptionGroup struct {
	Label   string
	Options []Option
}

// VersionView is one submitted version of a return.
type VersionView struct {
	Number           int
	SubmittedAt, By  string
	NilReturn, First bool
	Lines            []string
	Added, Removed   []string
}

// UploadProblem is one problem of an uploaded file, by row and column.
type UploadProblem struct {
	Row             string // "" for the file as a whole
	Column, Message string
}

// The inputs of the return's services filter, shared by the handler and
// the form.
const (
	ServiceSearchInput = "q"
	ServiceStateInput  = "state"
	ServiceItemInput   = "item"
)

// ReturnAttention is the top of an open return's page for its buyers:
// planned services due to go live by the month's end (the first of them,
// DueTotal in all, DueHref the services filtered to the planned ones) and
// how many changes ODS shows are still to decide and how many requested
// changes wait for their date (both listed further down).
type ReturnAttention struct {
	Show      bool
	Due       []DueService
	DueTotal  int
	DueHref   string
	Proposals int
	Pending   int
}

// KindOption is one kind of change offered as a radio, with what it means.
type KindOption struct {
	Value, Label, Hint string
}

// ReturnHistoryPage is a CCG's monthly returns, newest first.
type ReturnHistoryPage struct {
	Page Page
	CCG  CCGRow
	Rows []ReturnRow
}

// ReturnListPage is every CCG's return for one month, for reviewers: the
// counts by status, the filters (Form, with their options) and the
// returns they match.
type ReturnListPage struct {
	Page       Page
	PeriodName string
	Rows       []ReturnRow
	Counts     []ReturnCount
	Form       Form
	Periods    []Option
	Regions    []Option
	Statuses   []Option
	Sorts      []Option
}

// ReturnShowPage is the buyer's page of a return: Form is the add-a-change
// form or a refused action shown again, Upload the problems of a refused
// upload.
type ReturnShowPage struct {
	Page   Page
	Return ReturnView
	Form   Form
	Upload []UploadProblem
}

// ReturnCheckPage is "check your answers" before submitting.
type ReturnCheckPage struct {
	Page   Page
	Return ReturnView
	Form   Form
}

// ReturnReviewPage is the reviewer's page of a return, Form the comments.
type ReturnReviewPage struct {
	Page   Page
	Return ReturnView
	Form   Form
}

// ReturnVersionsPage lists every submitted version of a return.
type ReturnVersionsPage struct {
	Page     Page
	Return   ReturnView
	Versions []VersionView
}

// AdminCCGPage is a CCG's due day, for an admin to change.
type AdminCCGPage struct {
	Page Page
	CCG  CCGRow
	Form Form
}

// DueDayInput is the CCG's own due day on the admin's CCG page.
const DueDayInput = "due-day"

// AdminReturnsPage issues a month's returns by hand.
type AdminReturnsPage struct {
	Page Page
	Form Form
}
