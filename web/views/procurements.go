package views

// The procurement forms' inputs, and the criteria as a whole, where a
// problem with them all is shown. The award's term uses the order form's
// inputs (OrderCommencementInput...).
const (
	ProcurementCCGInput       = "ccg"
	ProcurementNameInput      = "name"
	ProcurementProcedureInput = "procedure"
	ProcurementCriteriaField  = "criteria"
	ProcurementItemInput      = "item"
	ProcurementWinnerInput    = "winner"
	ProcurementQueryInput     = SearchQueryInput // the shortlist's search of the catalogue
	// The Evaluate form's buttons: save for later, or save and complete.
	ProcurementActionInput    = "action"
	ProcurementActionSave     = "save"
	ProcurementActionComplete = "complete"
)

// ProcurementListPage is the list of procurements.
type ProcurementListPage struct {
	Page      Page
	Rows      []ProcurementRow
	Pager     Pager
	CanCreate bool
}

// ProcurementNewPage starts a procurement.
type ProcurementNewPage struct {
	Page Page
	Form Form
	CCGs []Option
}

// ProcurementShowPage is a procurement's task list.
type ProcurementShowPage struct {
	Page        Page
	Procurement ProcurementView
}

// ProcurementPreparePage is the Prepare step: the procedure and the criteria.
type ProcurementPreparePage struct {
	Page        Page
	Procurement ProcurementView
	Form        Form
	Procedures  []Option
	Rows        []CriterionRow
	Closed      string // why the step cannot change now, "" when it can
}

// ProcurementShortlistPage is Review Catalogue Solutions: the shortlist and a search of the catalogue.
type ProcurementShortlistPage struct {
	Page        Page
	Procurement ProcurementView
	Form        Form
	Query       string // the search typed
	Found       []CandidateRow
	Pager       Pager
	Problem     string // what stops the shortlist being completed, "" when nothing
	Closed      string // why the step cannot change now, "" when it can
	Completed   bool   // the step is completed
}

// ProcurementEvaluatePage is the Evaluate step: the scores and the ranking.
type ProcurementEvaluatePage struct {
	Page        Page
	Procurement ProcurementView
	Form        Form
	Rows        []ScoreRow
	Ranking     []RankRow
	Closed      string // why the step cannot change now, "" when it can
}

// ProcurementAwardPage is the contract award, which makes the call-off order.
type ProcurementAwardPage struct {
	Page        Page
	Procurement ProcurementView
	Form        Form
	Winners     []Option
	Ranking     []RankRow
	Closed      string // why the step cannot change now, "" when it can
}

// ProcurementManagePage is Manage your contract: the order and its services.
type ProcurementManagePage struct {
	Page        Page
	Procurement ProcurementView
	Services    []LedgerRow
	CanComplete bool // the step may be completed now
	Completed   bool // the step is completed
}

// The catalogue search's inputs (a GET form: they are the list's query).
const (
	CatalogueQueryInput    = "q"
	CatalogueKindInput     = "kind"
	CatalogueSupplierInput = "supplier"
)

// CatalogueItemPage is one catalogue item with its prices.
type CatalogueItemPage struct {
	Page Page
	Item ItemDetail
}

// CatalogueListPage is the searchable Buying Catalogue.
type CatalogueListPage struct {
	Page      Page
	Rows      []ItemRow
	Pager     Pager
	Form      Form
	Kinds     []Option
	Suppliers []Option
}

// ProcurementRow is one procurement in the list.
type ProcurementRow struct {
	Href, Name, CCG, Procedure, NextStep string
}

// ProcurementView is what every procurement page shows of it.
type ProcurementView struct {
	ID                                      int64
	Path, Name, CCGCode, CCGName, Procedure string
	Version                                 int
	CanEdit                                 bool // the user may change it
	Steps                                   []TaskView
	Criteria                                []CriterionView
	Shortlist                               []SolutionView
	CallOffID, LatestCallOffID, OrderStatus string
	OrderSigned                             bool
	Awarded                                 bool   // the award step is completed
	Winner                                  string // the awarded solution, "" before the award
}

// TaskView is one step in the task list.
type TaskView struct {
	Key, Name string
	Href      string // "" when the step cannot be opened
	Status    string
	Tone      Tone
	Muted     bool // the tag in secondary text colour: the step cannot start yet
	Hint      string
}

// CriterionView is one evaluation criterion.
type CriterionView struct {
	ID     int64
	Name   string
	Weight int
}

// SolutionView is one shortlisted Catalogue Solution.
type SolutionView struct {
	ItemID, Name, Supplier string
}

// CriterionRow is one row of the Prepare form: its field names.
type CriterionRow struct {
	N                      int
	NameField, WeightField string
}

// CandidateRow is a Catalogue Solution found in the catalogue.
type CandidateRow struct {
	ID, Name, Supplier     string
	Shortlisted, Orderable bool
}

// ScoreRow is one solution's row of the Evaluate form.
type ScoreRow struct {
	Solution SolutionView
	Cells    []ScoreCell
}

// ScoreCell is one score input: a solution against a criterion.
type ScoreCell struct {
	Field, Label string
}

// RankRow is one solution in the weighted ranking.
type RankRow struct {
	Rank                             int
	ItemID, Name, Supplier, Weighted string
	Scored, Criteria                 int
}
