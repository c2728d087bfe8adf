package views

// The change-line forms of a return: the general one (a practice's
// change), a service's own (from its row) and the edit page share one
// component. The domain names a line's fields by meaning
// (tracker.Field*); here they become inputs: the fields a kind alone uses
// are named after it (activation-instance), so that without JavaScript,
// when every kind's fields show, only the chosen kind's are read. A field
// a form fixes for every kind (a service's own form fixes its service) is
// a hidden input named by its meaning.

// Names of the line form's inputs shared by every kind.
const (
	LineKindInput     = "kind"
	LinePracticeInput = "practice"
	LineDateInput     = "date" // the date input's parts are date-day, date-month, date-year
	LineNoteInput     = "note"
)

// LineKindField is the input of a field only kind uses.
func LineKindField(kind, field string) string { return kind + "-" + field }

// LineInputID is the id of the input a problem with a line's field (by
// meaning) is shown beside: the error summary links to it.
func LineInputID(kind, field string) string {
	switch field {
	case LineKindInput, LinePracticeInput, LineNoteInput:
		return field
	case LineDateInput:
		return LineDateInput + "-day"
	}
	if kind == "" {
		return LineKindInput
	}
	return LineKindField(kind, field)
}

// LineFormView is a change-line form.
type LineFormView struct {
	Action  string // where it posts
	Version int
	// Hidden are inputs the form fixes: its practice, the service of a
	// service's own form.
	Hidden []Hidden
	// Legend heads the kinds; Kinds are those offered, each with the
	// fields it reveals.
	Legend string
	Kinds  []LineKindView
	// DateOnly is the edit of a confirmed requested change: its date and
	// note are the buyer's, the rest was accepted earlier.
	DateOnly bool
	DateHint string
	Submit   string
	Cancel   string // the link back
}

// Hidden is a hidden input: what a form fixes.
type Hidden struct{ Name, Value string }

// LineKindView is one kind offered, as a conditional radio.
type LineKindView struct {
	Value, Label, Hint string
	Fields             []LineFieldView
}

// LineFieldView is one input a kind reveals.
type LineFieldView struct {
	Field string // tracker's name by meaning: instance, new-instance, targets, other-ccg, corrects
	Input string // its input's name and id
	Label string
	Hint  string
	// Groups are a service select's options; Options a correction's dates.
	First   Option
	Groups  []OptionGroup
	Options []Option
}

// ServiceFacts is what the return knows of the service a form is about.
type ServiceFacts struct {
	Ref, Item, Practice, State         string
	StateTone                          Tone
	PlannedM1, ActualM1, M2, Cessation string
}

// LineServicePage is a service's own form, from its row of the return:
// LineForm is the form, Form what was typed into it and what is wrong.
type LineServicePage struct {
	Page     Page
	Return   ReturnView
	Service  ServiceFacts
	LineForm LineFormView
	Form     Form
}

// LineEditPage edits one line of the return.
type LineEditPage struct {
	Page     Page
	Return   ReturnView
	Line     LineView
	LineForm LineFormView
	Form     Form
}

// LineRemovePage confirms the removal of one line; Form holds why it was
// refused.
type LineRemovePage struct {
	Page   Page
	Return ReturnView
	Line   LineView
	Action string
	Form   Form
}

// Where says where an upload problem is: "Row 2, Date: ", or "" for the
// whole file.
func (p UploadProblem) Where() string {
	switch {
	case p.Row == "":
		return ""
	case p.Column == "":
		return "Row " + p.Row + ": "
	}
	return "Row " + p.Row + ", " + p.Column + ": "
}

// lineName names a line for the hidden text of its links: its kind, and
// its service or practice.
func lineName(l LineView) string {
	what := l.Practice
	if l.Service != "" {
		what = l.Service
	}
	return l.KindName + " of " + what
}
