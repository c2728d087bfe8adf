package server

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/web/views"
)

// form is the one shape every POST handler reads its fields through. The
// middleware has already parsed the body (refuseUnreadableInput), so no
// handler calls ParseForm. A handler's parser reads the fields it knows
// into its own typed struct; what it cannot read (a date that does not
// exist, a number with letters in it) is noted against the field's name,
// and check merges those notes with the domain's verdict so that the
// person sees every problem at once, in one error summary.
type form struct {
	values   url.Values
	problems map[string]string
	order    []string // fields in the order their problems were noted
}

func readForm(r *http.Request) *form {
	return &form{values: r.PostForm, problems: map[string]string{}}
}

// text is a field as typed, without the spaces around it.
func (f *form) text(name string) string { return strings.TrimSpace(f.values.Get(name)) }

// problem notes what is wrong with field, keeping the first note.
func (f *form) problem(field, msg string) {
	if _, ok := f.problems[field]; ok || msg == "" {
		return
	}
	f.problems[field] = msg
	f.order = append(f.order, field)
}

// date reads an NHS date input (name-day, name-month, name-year), noting
// against field what is wrong: missing, incomplete or not a real date.
func (f *form) date(name, field, label string) time.Time {
	t, msg := dates.Parse(label, f.values.Get(name+"-day"), f.values.Get(name+"-month"), f.values.Get(name+"-year"))
	f.problem(field, msg)
	return t
}

// optionalDate is date where a blank date is the domain's to judge (it is
// given the zero time, and says whether the date may be missing).
func (f *form) optionalDate(name, field, label string) time.Time {
	if strings.TrimSpace(f.values.Get(name+"-day")+f.values.Get(name+"-month")+f.values.Get(name+"-year")) == "" {
		return time.Time{}
	}
	return f.date(name, field, label)
}

// whole reads a count ("1,200" is 1200), noting a problem when it is
// missing or not a whole number.
func (f *form) whole(name, field, label string) int {
	s := strings.ReplaceAll(f.text(name), ",", "")
	if s == "" {
		f.problem(field, "Enter the "+strings.ToLower(label))
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		f.problem(field, label+" must be a whole number, like 12")
		return 0
	}
	return n
}

// ok reports whether every field the parser read could be read.
func (f *form) ok() bool { return len(f.problems) == 0 }

// check is the one way a form's own problems meet the domain's: it
// returns err (the domain's verdict, or nil when the domain was not asked)
// with the form's problems added. A field the form could not read keeps
// the form's words, since the domain saw only the zero value put in its
// place. An error that is not about the input (a conflict, a failure)
// is returned as it is.
func (f *form) check(err error) error {
	if f.ok() {
		return err
	}
	out := &apperr.Error{Code: apperr.Invalid, Fields: map[string]string{}}
	var e *apperr.Error
	switch {
	case errors.As(err, &e) && e.Code == apperr.Invalid:
		for k, v := range e.Fields {
			out.Fields[k] = v
		}
		out.Message = e.Message
		for _, field := range f.order {
			if e.Fields[field] == e.Message {
				out.Message = f.problems[field] // the domain's summary was about a field the form put right
				break
			}
		}
	case err != nil:
		return err
	}
	for k, v := range f.problems {
		out.Fields[k] = v
	}
	if out.Message == "" {
		out.Message = f.problems[f.order[0]]
	}
	return out
}

// formAt is formOf with each problem moved from its field, named by
// meaning as the domain names it, to the input it is shown beside and the
// error summary links to: input(field), such as a date's day box.
func formAt(err error, values url.Values, input func(field string) string, order ...string) (views.Form, bool) {
	out, ok := formOf(err, values, order...)
	for i := range out.Errors {
		out.Errors[i].Field = input(out.Errors[i].Field)
	}
	return out, ok
}

// inputs maps a form's fields to their inputs, for formAt; a field not
// listed is its own input.
type inputs map[string]string

func (in inputs) of(field string) string {
	if id, ok := in[field]; ok {
		return id
	}
	return field
}

// formValues is what was typed into a form, to show it again.
func formValues(values url.Values) map[string]string {
	out := make(map[string]string, len(values))
	for k := range values {
		out[k] = values.Get(k)
	}
	return out
}

// refusedStatus is the status of a page shown again because err refused
// what was sent: 409 when what it would change changed meanwhile (a
// stale version), else 400.
func refusedStatus(err error) int {
	if apperr.CodeOf(err) == apperr.Conflict {
		return http.StatusConflict
	}
	return http.StatusBadRequest
}
