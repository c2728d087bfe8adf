package views

import "strings"

// The order forms' date inputs (each has -day, -month and -year parts):
// the order's commencement, the termination date, "Apply to all"'s date,
// and each practice's planned delivery date (OrderDeliveryInput).
const (
	OrderCommencementInput = "commencement"
	OrderTerminationInput  = "termination"
	OrderAllDatesInput     = "all"
	orderDeliveryPrefix    = "delivery-"
)

// The order forms' other inputs, and the practice list a problem with the
// choice of practices is shown beside. The server reads the forms by these
// names and, where it names a field, the order domain uses the same word.
const (
	OrderQueryInput         = "q"
	OrderStatusInput        = "status"
	OrderCCGInput           = "ccg"
	OrderSupplierInput      = "supplier"
	OrderDescriptionInput   = "description"
	OrderInitialPeriodInput = "initial-period"
	OrderMaximumTermInput   = "maximum-term"
	OrderItemInput          = "item"
	OrderFundingInput       = "funding"
	OrderPracticesField     = "practices"
	OrderReasonInput        = "reason"
	OrderPracticeInput      = "practice" // each practice ticked to receive an item
)

// The recipients forms' buttons: OrderActionInput says which was pressed.
const (
	OrderActionInput    = "action"
	OrderActionSelected = "selected"  // continue with the practices ticked
	OrderActionAll      = "all"       // every practice of the CCG
	OrderActionApplyAll = "apply-all" // "Apply to all"'s date to every practice
	OrderActionSave     = "save"
)

// OrderQuantityInput is the quantity input of a practice.
func OrderQuantityInput(practice string) string { return "quantity-" + practice }

// OrderDeliveryInput is the date input of a practice's planned delivery.
func OrderDeliveryInput(practice string) string { return orderDeliveryPrefix + practice }

// OrderInputID is the id of the input a problem with an order form's field
// (named by meaning, as the order domain names it) is shown beside, and
// the error summary links to: a date's day part, else the field's own
// input.
func OrderInputID(field string) string {
	switch {
	case field == OrderCommencementInput, field == OrderTerminationInput, field == OrderAllDatesInput,
		strings.HasPrefix(field, orderDeliveryPrefix):
		return field + "-day"
	}
	return field
}

// OrderListPage is the searchable list of orders.
type OrderListPage struct {
	Page      Page
	Rows      []OrderRow
	Pager     Pager
	Form      Form
	Statuses  []Option
	CanCreate bool
}

// OrderDetailsFormPage is the form of an order's details, to create the order (Action /orders, Version 0) or change it.
type OrderDetailsFormPage struct {
	Page           Page
	Form           Form
	Action         string // where the form posts
	Version        int    // the version the person saw
	CCGs           []Option
	Suppliers      []Option
	SupplierLocked bool // the order has items, so its supplier cannot change
}

// OrderShowPage is an order revision's page.
type OrderShowPage struct {
	Page  Page
	Order OrderView
	Form  Form
}

// OrderItemNewPage lists what can be added to an order in progress.
type OrderItemNewPage struct {
	Page  Page
	Order OrderView
	Form  Form
	Items []OrderableRow
}

// OrderItemShowPage is an item of an order: its funding and the practices that receive it.
type OrderItemShowPage struct {
	Page           Page
	Order          OrderView
	Item           OrderItemView
	Form           Form
	Funding        []Option
	Practices      []PracticeChoice
	UploadProblems []UploadProblem
}

// OrderRecipientsPage is the quantities and planned delivery dates of an item's practices.
type OrderRecipientsPage struct {
	Page       Page
	Order      OrderView
	Item       OrderItemView
	Form       Form
	Rows       []RecipientEdit
	PerPatient bool // the item is priced per patient, so quantities default to list sizes
}

// OrderTerminatePage asks why and from when the order in force is terminated.
type OrderTerminatePage struct {
	Page  Page
	Order OrderView
	Form  Form
}

// OrderSummaryPage is the printable summary of an order.
type OrderSummaryPage struct {
	Page  Page
	Order OrderView
}

// OrderRow is one order in the list.
type OrderRow struct {
	CallOffID, Description, CCG, Supplier, Status string
	StatusTone                                    Tone
	Commencement                                  string
	Items, Recipients                             int
}

// OrderView is an order revision's page.
type OrderView struct {
	CallOffID, Status, CCGCode, CCGName, SupplierID, SupplierName, Description string
	StatusTone                                                                 Tone
	Commencement, EndDate                                                      string
	InitialPeriod, MaximumTerm, Version                                        int
	Editable, IsAmendment, CanEdit, CanAmend, CanTerminate                     bool
	CompletedBy, CompletedAt, TerminationReason, TerminationDate, CreatedBy    string
	Items                                                                      []OrderItemView
	Total                                                                      CostView
	Problems                                                                   []string
	Revisions                                                                  []RevisionView
	Services                                                                   []LedgerRow
}

// OrderItemView is one item of an order.
type OrderItemView struct {
	ID                                      int64
	CatalogueItemID, Name, Kind, Price, Per string
	Funding                                 string
	Recipients                              []RecipientView
	Cost                                    CostView
	AddedEarlier                            bool // ordered in an earlier revision
	Datesmissing                            int
}

// RecipientView is one practice receiving an item.
type RecipientView struct {
	PracticeCode, PracticeName, Quantity, PlannedDelivery string
	AddedEarlier                                          bool
}

// CostView is a cost summary line, in pounds.
type CostView struct {
	OneOff, Monthly, Annual, Total string
}

// RevisionView is one revision in an order's history.
type RevisionView struct {
	CallOffID, Status, CompletedAt, CompletedBy, Added string
	Current                                            bool
}

// OrderableRow is a catalogue item that can be added to an order.
type OrderableRow struct {
	ID, Name, Kind, Price, Per string
}

// PracticeChoice is a practice offered as a recipient.
type PracticeChoice struct {
	Code, Name, Postcode, ListSize string
	Selected, AddedEarlier         bool
}

// RecipientEdit is one row of the quantities and dates form.
type RecipientEdit struct {
	Code, Name, ListSize string
}
