package views

// The inputs of the sign-in, set-password and user forms, named once for
// the templates and the server's parsers. Each carries the domain's field
// of the same meaning (auth.FieldEmail is InputEmail's), so a refusal
// about a field shows at its input.
const (
	InputEmail    = "email"
	InputPassword = "password"
	InputConfirm  = "confirm"
	InputNext     = "next"
	InputName     = "name"
	InputRole     = "role"
	InputCCG      = "ccg"
	InputVersion  = "version"
)

// The users list's filter inputs, beside InputRole and InputCCG.
const (
	UsersQuery  = "q"
	UsersStatus = "status"
)

// The audit log's filter inputs. From and To are date inputs (from-day,
// from-month, from-year ...), whose problems show at the day.
const (
	AuditWho    = "who"
	AuditCCG    = "ccg"
	AuditType   = "type"
	AuditObject = "object"
	AuditFrom   = "from"
	AuditTo     = "to"
)

// LoginPage is the sign-in form, with where to go after it and a notice
// (signed out, timed out) above it.
type LoginPage struct {
	Page   Page
	Form   Form
	Next   string
	Notice string
}

// SetPasswordPage is the form of a one-time set-password link: whose
// password it sets, and the link's address the form posts to.
type SetPasswordPage struct {
	Page   Page
	Form   Form
	Email  string
	Action string
}

// AdminNewUserPage is the form that creates a user, with its choices.
type AdminNewUserPage struct {
	Page        Page
	Form        Form
	Roles, CCGs []Option
}

// AdminUserPage is one user with their history, and the set-password link
// just made for them (shown once), if any.
type AdminUserPage struct {
	Page    Page
	User    UserRow
	Link    string
	History []AuditRow
}

// AdminJobsPage is the nightly job's latest runs and when it runs.
type AdminJobsPage struct {
	Page      Page
	Runs      []JobRunRow
	NightlyAt string // London time, like 02:00
}

// AdminOutboxPage is the messages queued and sent, and whether an SMTP
// server sends them.
type AdminOutboxPage struct {
	Page           Page
	Messages       []MessageRow
	SMTPConfigured bool
}

// CCGQueryInput is the search box of the CCG list and of a CCG's
// practices; the list's region filter is RegionInput.
const CCGQueryInput = SearchQueryInput

// CCGListPage is the searchable, paged list of CCGs.
type CCGListPage struct {
	Page    Page
	Rows    []CCGRow
	Pager   Pager
	Query   string
	Region  string // the region chosen, "" for all
	Regions []Option
}

// CCGShowPage is one CCG with a page of its practices, its late returns,
// and whether the viewer may change its due day.
type CCGShowPage struct {
	Page         Page
	CCG          CCGRow
	Practices    []PracticeRow
	Pager        Pager
	Query        string
	CanSetDueDay bool
	Late         []string
}

// PracticeShowPage is one practice.
type PracticeShowPage struct {
	Page     Page
	Practice PracticeRow
}
