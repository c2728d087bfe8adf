package views

// The inputs of an agreement's forms: adding a service, and recording a
// practice's cancellation. A date is a DateField of that name, whose
// problems are shown at its day input (DateInputID).
const (
	AddServicePracticeInput = "practice"
	AddServiceItemInput     = "item"
	AddServiceStartInput    = "start"
	CancelPracticeInput     = "cancel-practice"
	CancelDateInput         = "cancel-date"
)

// The service ledger's filters, in its query string.
const (
	LedgerPracticeFilter = "practice"
	LedgerStateFilter    = "state"
)

// AgreementListPage is a CCG's continuity agreements.
type AgreementListPage struct {
	Page       Page
	CCG        CCGRow
	Agreements []AgreementRow
}

// AgreementPage is one agreement with a page of its services and, for
// reviewers, the forms to add a service (Add) and to record a practice's
// cancellation (Cancel), empty or refused with what is wrong.
type AgreementPage struct {
	Page        Page
	Agreement   AgreementView
	Services    []LedgerRow
	Pager       Pager
	Add, Cancel Form
}

// ServiceLedgerPage is a CCG's service ledger: the filters (Form, by
// LedgerPracticeFilter and LedgerStateFilter, with the states to choose
// from) and a page of the services that pass them.
type ServiceLedgerPage struct {
	Page     Page
	CCG      CCGRow
	Services []LedgerRow
	Pager    Pager
	Form     Form
	States   []Option
}

// AgreementRow is one Continuity Call-Off Agreement of a CCG.
type AgreementRow struct {
	Href, SupplierID, SupplierName, StartDate string
	Services                                  int // planned or active
}

// AgreementView is an agreement as its page shows it. Items and the
// forms are only for those who may change it (CanEdit).
type AgreementView struct {
	AgreementRow
	CCGCode, CCGName string
	CanEdit          bool
	Items            []Option // the supplier's catalogue, for the add form
}

// LedgerRow is one service instance of the service ledger.
type LedgerRow struct {
	Ref, Href                          string
	PracticeCode, PracticeName         string
	ItemID, ItemName, Supplier         string
	Source                             Link // the call-off order or the agreement
	State                              string
	StateTone                          Tone
	PlannedM1, ActualM1, M2, Cessation string
}

// InstancePage is one service instance's page.
type InstancePage struct {
	Page Page
	LedgerRow
	CCGCode, CCGName string
	Price, Quantity  string
	History          []InstanceChange
}

// InstanceChange is one entry of an instance's history.
type InstanceChange struct {
	At, Who, What string
	Fields        []FieldChange
}

// FieldChange is one value before and after a change; "" is no value.
type FieldChange struct {
	Field, Before, After string
}
