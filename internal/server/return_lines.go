package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// The change-line forms of a return: the general form (a practice's
// change), a service's own form (from its row), the edit page and the
// removal's confirmation. They share one parser (lineForm), one way of
// putting the domain's problems beside their inputs (lineForm.refusal) and
// one domain command (tracker.Amend, through AddLine, EditLine and
// DeleteLine); which fields a kind has comes from tracker's kind table.

// lineFieldLabels are the words of a line's fields on the forms, by
// meaning; the migration's two services are named by which side the form
// is on.
var lineFieldLabels = map[string][2]string{
	tracker.FieldInstance:    {"Service", ""},
	tracker.FieldNewInstance: {"New service", "The planned service the practice moved to."},
	tracker.FieldTargets:     {"Receiving practices", "The ODS codes of the practices that took the patients, separated by commas. A merger has one."},
	tracker.FieldOtherCCG:    {"A receiving practice is another CCG's, and the patients did move there", "Tick this only when the practice named is in another CCG: the reviewer is told of it."},
	tracker.FieldCorrects:    {"Which date is wrong", ""},
}

// lineFieldOrder is the order of a line's fields on the forms: the order
// of the error summary.
var lineFieldOrder = []string{tracker.FieldKind, tracker.FieldPractice, tracker.FieldInstance, tracker.FieldNewInstance,
	tracker.FieldTargets, tracker.FieldOtherCCG, tracker.FieldCorrects, tracker.FieldDate, tracker.FieldNote}

// lineForm is a posted change-line form: the form as posted (with what
// it could not read, by meaning), and the line it makes.
type lineForm struct {
	f    *form
	line tracker.LineInput
}

// value is a field of the chosen kind: its own input when the form has
// one (kind-field), else the input the form fixes for every kind.
func (lf lineForm) value(kind tracker.Kind, field string) string {
	if v, ok := lf.f.values[views.LineKindField(string(kind), field)]; ok {
		return strings.TrimSpace(firstOr(v, ""))
	}
	return lf.f.text(field)
}

// parseLineForm reads a change-line form; only the chosen kind's fields
// are read (tracker's table says which).
func parseLineForm(f *form) lineForm {
	lf := lineForm{f: f}
	k := tracker.Kind(f.text(views.LineKindInput))
	in := tracker.LineInput{
		Kind:     k,
		Practice: strings.ToUpper(f.text(views.LinePracticeInput)),
		Note:     f.values.Get(views.LineNoteInput),
	}
	if k.Uses(tracker.FieldInstance) {
		in.Instance = lf.value(k, tracker.FieldInstance)
	}
	if k.Uses(tracker.FieldNewInstance) {
		in.NewInstance = lf.value(k, tracker.FieldNewInstance)
	}
	if k.Uses(tracker.FieldTargets) {
		in.Targets = strings.FieldsFunc(strings.ToUpper(lf.value(k, tracker.FieldTargets)), func(r rune) bool {
			return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
		})
		in.OtherCCGConfirmed = lf.value(k, tracker.FieldOtherCCG) == "yes"
	}
	if k.Uses(tracker.FieldCorrects) {
		in.Corrects = lf.value(k, tracker.FieldCorrects)
	}
	// A change to one service is at that service's practice.
	if _, practice, ok := tracker.ParseRef(in.Instance); ok && in.Practice == "" {
		in.Practice = practice
	}
	in.Date = f.date(views.LineDateInput, tracker.FieldDate, "Date of the change")
	lf.line = in
	return lf
}

// inputOf is the input a problem with field is shown beside: the kind's
// own input, or, for a field the form fixes (a service's own form fixes
// its service), the kinds' radios, where the person chose what to report.
func (lf lineForm) inputOf(field string, dateOnly bool) string {
	k := string(lf.line.Kind)
	switch {
	case field == tracker.FieldDate || field == tracker.FieldNote:
		return views.LineInputID(k, field)
	case dateOnly:
		return views.LineInputID(k, tracker.FieldDate)
	case field == tracker.FieldKind || field == tracker.FieldPractice:
		return views.LineInputID(k, field)
	}
	_, own := lf.f.values[views.LineKindField(k, field)]
	if _, fixed := lf.f.values[field]; fixed && !own {
		return views.LineKindInput
	}
	// A box left unticked is not sent at all: still the kind's own input.
	return views.LineKindField(k, field)
}

// shown is the form shown again with the problems of err (the form's and
// the domain's, merged by check), each beside its input, in the form's
// order.
func (lf lineForm) shown(err error, dateOnly bool) views.Form {
	out := views.Form{Values: formValues(lf.f.values)}
	// What was read is shown in the chosen kind's own inputs, though it
	// came in a shared one.
	if k := lf.line.Kind; k.Valid() {
		for _, field := range k.Spec().Fields {
			if v := lf.value(k, field); v != "" {
				out.Values[views.LineKindField(string(k), field)] = v
			}
		}
	}
	var problems map[string]string
	var e *apperr.Error
	if errors.As(err, &e) {
		problems = e.Fields
	}
	seen := map[string]bool{}
	for _, field := range lineFieldOrder {
		msg, ok := problems[field]
		if !ok {
			continue
		}
		if input := lf.inputOf(field, dateOnly); !seen[input] {
			seen[input] = true
			out.Errors = append(out.Errors, views.FieldError{Field: input, Message: msg})
		}
	}
	return out
}

// refusal is a refused line form shown again, and its status: problems
// beside their inputs (400), or a refusal of the whole change (a return
// changed meanwhile: 409) at the top, above what the form itself could
// not read. ok is false for other errors, which the handler returns.
func (lf lineForm) refusal(err error, dateOnly bool) (views.Form, int, bool) {
	var e *apperr.Error
	if !errors.As(err, &e) || (e.Code != apperr.Invalid && e.Code != apperr.Conflict) {
		return views.Form{}, 0, false
	}
	if e.Code == apperr.Invalid && len(e.Fields) > 0 {
		return lf.shown(lf.f.check(err), dateOnly), http.StatusBadRequest, true
	}
	form := lf.shown(lf.f.check(nil), dateOnly)
	form.Errors = append([]views.FieldError{{Field: views.ReturnStatusID, Message: e.Message}}, form.Errors...)
	return form, refusedStatus(err), true
}

// checkWithoutDate finds, when the form's date could not be read, every
// other problem the domain finds in the change, so that the person sees
// them all at once: the period's last day stands in for the date (what
// the domain says of it is dropped for the form's own message).
func (s *Server) checkWithoutDate(ctx context.Context, scope org.Scope, ret tracker.Return, c tracker.LineChange) (map[string]string, error) {
	c.Line.Date = ret.Period.Last()
	probs, err := tracker.CheckAmendment(ctx, s.pool, scope, ret.CCGCode, ret.Period, []tracker.LineChange{c})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range probs[0] {
		if k != tracker.FieldDate {
			out[k] = v
		}
	}
	return out, nil
}

// amendLine saves a line form's change with the domain, or says what is
// wrong with it, all of it at once.
func (s *Server) amendLine(r *http.Request, ret tracker.Return, lf lineForm, lineID int64) error {
	u := currentUser(r)
	// A return that changed meanwhile, or cannot change, is refused as
	// such before anything is said about the line.
	if lf.f.ok() || ret.Version != version(r) || !ret.Editable {
		if lineID == 0 {
			return s.tracker.AddLine(r.Context(), u.Actor(), ret.CCGCode, ret.Period, version(r), lf.line)
		}
		return s.tracker.EditLine(r.Context(), u.Actor(), ret.CCGCode, ret.Period, version(r), lineID, lf.line)
	}
	fields, err := s.checkWithoutDate(r.Context(), u.Scope(), ret, tracker.LineChange{ID: lineID, Line: lf.line})
	if err != nil {
		return err
	}
	return lf.f.check(&apperr.Error{Code: apperr.Invalid, Message: "The change could not be made", Fields: fields})
}

// practiceServices are a practice's services, in every state: a
// correction may be about one that ceased before the month.
func (s *Server) practiceServices(r *http.Request, ret tracker.Return, practice string) ([]ledger.Instance, error) {
	return ledger.PracticeServices(r.Context(), s.pool, currentUser(r).Scope(), ret.CCGCode, practice)
}

// serviceGroup is the select options of the services in states, labelled
// with their practice.
func serviceGroup(services []ledger.Instance, except int64, states ...ledger.State) []views.OptionGroup {
	var g views.OptionGroup
	for _, si := range services {
		if si.ID == except {
			continue
		}
		for _, st := range states {
			if si.State == st {
				state, _ := ledgerState(si.State)
				g.Label = si.PracticeName + " (" + si.PracticeCode + ")"
				g.Options = append(g.Options, views.Option{Value: si.Ref(), Label: si.Ref() + ": " + si.ItemName + " at " + si.PracticeName + " (" + strings.ToLower(state) + ")"})
			}
		}
	}
	if len(g.Options) == 0 {
		return nil
	}
	return []views.OptionGroup{g}
}

// kindFields are the inputs a kind reveals on a form; fixed is the
// service the form is about (nil on the general form), whose own fields
// are fixed rather than chosen.
func kindFields(spec tracker.KindSpec, services []ledger.Instance, fixed *ledger.Instance, practiceName string) []views.LineFieldView {
	var out []views.LineFieldView
	k := string(spec.Kind)
	for _, field := range spec.Fields {
		words := lineFieldLabels[field]
		fl := views.LineFieldView{Field: field, Input: views.LineKindField(k, field), Label: words[0], Hint: words[1]}
		switch field {
		case tracker.FieldInstance:
			if fixed != nil && !spec.AsNew {
				continue
			}
			states := spec.From
			if spec.Kind == tracker.Migration {
				states = []ledger.State{ledger.Active}
				fl.Label, fl.Hint = "The service it replaced", "The live service at "+practiceName+" the practice moved from."
			} else {
				fl.Hint = "The service at " + practiceName + " the change is about."
			}
			var except int64
			if fixed != nil {
				except = fixed.ID
			}
			fl.First, fl.Groups = views.Option{Value: "", Label: "Select a service"}, serviceGroup(services, except, states...)
		case tracker.FieldNewInstance:
			if fixed != nil && spec.AsNew {
				continue
			}
			var except int64
			if fixed != nil {
				except = fixed.ID
			}
			fl.First, fl.Groups = views.Option{Value: "", Label: "Select the new service"}, serviceGroup(services, except, ledger.Planned)
		case tracker.FieldCorrects:
			for _, c := range tracker.Corrects {
				label := tracker.CorrectsName(c)
				label = strings.ToUpper(label[:1]) + label[1:]
				if fixed != nil {
					// A service's own form offers only the dates it has,
					// each with its value now: a date it has not cannot be
					// wrong.
					now := map[string]*time.Time{tracker.CorrectsActualM1: fixed.ActualM1, tracker.CorrectsM2: fixed.M2, tracker.CorrectsCessation: fixed.Cessation}[c]
					if now == nil {
						continue
					}
					label += ", now " + dates.Long(*now)
				}
				fl.Options = append(fl.Options, views.Option{Value: c, Label: label})
			}
		}
		out = append(out, fl)
	}
	return out
}

// kindViews are the kinds offered, as the view's conditional radios.
func kindViews(specs []tracker.KindSpec, services []ledger.Instance, fixed *ledger.Instance, practiceName string) []views.LineKindView {
	out := make([]views.LineKindView, len(specs))
	for i, spec := range specs {
		label := spec.Kind.Name()
		if spec.AsNew {
			label = "Migration to this service"
		}
		out[i] = views.LineKindView{Value: string(spec.Kind), Label: label, Hint: spec.Hint,
			Fields: kindFields(spec, services, fixed, practiceName)}
	}
	return out
}

func dateHint(ret tracker.Return) string {
	return "For example, 20 11 2026. A date after " + dates.Long(ret.Period.Last()) + " makes it a requested change: it changes nothing yet and comes back next month for its actual date."
}

// dateValues are a date as the values of the date input name.
func dateValues(name string, d time.Time) map[string]string {
	return map[string]string{
		name + "-day": strconv.Itoa(d.Day()), name + "-month": strconv.Itoa(int(d.Month())), name + "-year": strconv.Itoa(d.Year()),
	}
}

// lineValues are a saved line as its form's values, to edit it.
func lineValues(l tracker.Line) map[string]string {
	k := string(l.Kind)
	v := map[string]string{
		views.LineKindInput: k, views.LinePracticeInput: l.PracticeCode, views.LineNoteInput: l.Note,
	}
	for k, d := range dateValues(views.LineDateInput, l.Date) {
		v[k] = d
	}
	set := func(field, value string) {
		if l.Kind.Uses(field) && value != "" {
			v[views.LineKindField(k, field)] = value
		}
	}
	set(tracker.FieldInstance, l.InstanceRef)
	set(tracker.FieldNewInstance, l.NewInstanceRef)
	set(tracker.FieldTargets, strings.Join(l.Targets, ", "))
	set(tracker.FieldCorrects, l.Corrects)
	if l.OtherCCGConfirmed {
		set(tracker.FieldOtherCCG, "yes")
	}
	return v
}

// loadLine is the line the URL names, of the return.
func loadLine(r *http.Request, ret tracker.Return) (tracker.Line, int, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "lineID"), 10, 64)
	if err != nil {
		return tracker.Line{}, 0, errNotFound
	}
	for i, l := range ret.Lines {
		if l.ID == id {
			return l, i + 1, nil
		}
	}
	return tracker.Line{}, 0, errNotFound
}

// editableReturn is the return the URL names, for its buyer to change: a
// return that takes no changes has no line forms (404, as a page that
// does not exist).
func (s *Server) editableReturn(r *http.Request) (tracker.Return, error) {
	ret, err := s.loadReturn(r)
	if err == nil && !ret.Editable {
		err = errNotFound
	}
	return ret, err
}

// returnLineEdit shows the edit page of a line.
func (s *Server) returnLineEdit(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.editableReturn(r)
	if err != nil {
		return err
	}
	l, _, err := loadLine(r, ret)
	if err != nil {
		return err
	}
	return s.renderLineEdit(w, r, ret, l, http.StatusOK, views.Form{Values: lineValues(l)})
}

func (s *Server) renderLineEdit(w http.ResponseWriter, r *http.Request, ret tracker.Return, l tracker.Line, status int, f views.Form) error {
	v, err := s.returnView(r, ret)
	if err != nil {
		return err
	}
	var lv views.LineView
	for _, x := range v.Lines {
		if x.ID == l.ID {
			lv = x
		}
	}
	services, err := s.practiceServices(r, ret, l.PracticeCode)
	if err != nil {
		return err
	}
	form := views.LineFormView{
		Action: returnHref(ret) + "/lines/" + strconv.FormatInt(l.ID, 10) + "/edit", Version: ret.Version,
		Hidden: []views.Hidden{{Name: views.LinePracticeInput, Value: l.PracticeCode}},
		Legend: "Kind of change", Kinds: kindViews(tracker.KindSpecs(), services, nil, l.PracticeName),
		DateOnly: l.CarriedFrom != nil, DateHint: dateHint(ret), Submit: "Save change " + strconv.Itoa(lv.Number),
		Cancel: returnHref(ret) + "/check",
	}
	title := "Change " + strconv.Itoa(lv.Number)
	s.render(w, r, status, views.ReturnLineEdit(views.LineEditPage{
		Page:   s.returnPage(r, ret, title, views.Link{Label: "Return for " + ret.Period.Name(), Href: returnHref(ret)}),
		Return: v, Line: lv, LineForm: form, Form: f,
	}))
	return nil
}

// returnLineSave saves an edited line, under the return's version.
func (s *Server) returnLineSave(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.editableReturn(r)
	if err != nil {
		return err
	}
	l, n, err := loadLine(r, ret)
	if err != nil {
		return err
	}
	f := parseLineForm(readForm(r))
	f.line.Practice = l.PracticeCode // a line stays at its practice
	err = s.amendLine(r, ret, f, l.ID)
	if form, status, ok := f.refusal(err, l.CarriedFrom != nil); ok {
		now, err := s.loadReturn(r)
		if err != nil {
			return err
		}
		current, _, err := loadLine(r, now)
		if err != nil {
			return err // removed meanwhile: nothing left to edit
		}
		if status == http.StatusConflict {
			// Someone else changed the return: the line is shown as it is
			// now, with why, never what this editor typed over it.
			form.Values = lineValues(current)
		}
		return s.renderLineEdit(w, r, now, current, status, form)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Change "+strconv.Itoa(n)+" is saved.")
	return redirect(w, r, returnHref(ret)+"/check")
}

// returnLineRemoveConfirm asks before a line is removed.
func (s *Server) returnLineRemoveConfirm(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.editableReturn(r)
	if err != nil {
		return err
	}
	return s.renderLineRemove(w, r, ret, http.StatusOK, views.Form{})
}

func (s *Server) renderLineRemove(w http.ResponseWriter, r *http.Request, ret tracker.Return, status int, f views.Form) error {
	l, _, err := loadLine(r, ret)
	if err != nil {
		return err
	}
	v, err := s.returnView(r, ret)
	if err != nil {
		return err
	}
	var lv views.LineView
	for _, x := range v.Lines {
		if x.ID == l.ID {
			lv = x
		}
	}
	s.render(w, r, status, views.ReturnLineRemove(views.LineRemovePage{
		Page:   s.returnPage(r, ret, "Remove change "+strconv.Itoa(lv.Number), views.Link{Label: "Return for " + ret.Period.Name(), Href: returnHref(ret)}),
		Return: v, Line: lv, Action: returnHref(ret) + "/lines/" + strconv.FormatInt(l.ID, 10) + "/delete", Form: f,
	}))
	return nil
}

// returnServiceReport is a service's own form, from its row of the
// return: the kinds its state allows, what is known of it shown.
func (s *Server) returnServiceReport(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.editableReturn(r)
	if err != nil {
		return err
	}
	return s.renderServiceReport(w, r, ret, http.StatusOK, views.Form{})
}

// reportedService is the service the URL names, of the return's CCG: any
// other is not found.
func (s *Server) reportedService(r *http.Request, ret tracker.Return) (ledger.Instance, error) {
	id, practice, ok := tracker.ParseRef(chi.URLParam(r, "ref"))
	if !ok {
		return ledger.Instance{}, errNotFound
	}
	found, err := ledger.ByIDs(r.Context(), s.pool, []int64{id})
	if err != nil {
		return ledger.Instance{}, err
	}
	si, ok := found[id]
	if !ok || si.CCGCode != ret.CCGCode || si.PracticeCode != practice {
		return ledger.Instance{}, errNotFound
	}
	return si, nil
}

func (s *Server) renderServiceReport(w http.ResponseWriter, r *http.Request, ret tracker.Return, status int, f views.Form) error {
	si, err := s.reportedService(r, ret)
	if err != nil {
		return err
	}
	v, err := s.returnView(r, ret)
	if err != nil {
		return err
	}
	services, err := s.practiceServices(r, ret, si.PracticeCode)
	if err != nil {
		return err
	}
	row := ledgerRow(si)
	facts := views.ServiceFacts{Ref: si.Ref(), Item: si.ItemName, Practice: si.PracticeName + " (" + si.PracticeCode + ")",
		State: row.State, StateTone: row.StateTone, PlannedM1: dayOrEmpty(si.PlannedM1), ActualM1: dayOrEmpty(si.ActualM1),
		M2: dayOrEmpty(si.M2), Cessation: dayOrEmpty(si.Cessation)}
	form := views.LineFormView{
		Action: returnHref(ret) + "/services/" + si.Ref() + "/report", Version: ret.Version,
		Hidden: []views.Hidden{{Name: views.LinePracticeInput, Value: si.PracticeCode},
			{Name: tracker.FieldInstance, Value: si.Ref()}, {Name: tracker.FieldNewInstance, Value: si.Ref()}},
		Legend: "What happened to " + si.Ref() + "?", Kinds: kindViews(tracker.KindsFor(si.State), services, &si, si.PracticeName),
		DateHint: dateHint(ret), Submit: "Add change", Cancel: returnHref(ret) + "#services",
	}
	s.render(w, r, status, views.ReturnLineService(views.LineServicePage{
		Page:   s.returnPage(r, ret, "Report a change to "+si.Ref(), views.Link{Label: "Return for " + ret.Period.Name(), Href: returnHref(ret)}),
		Return: v, Service: facts, LineForm: form, Form: f,
	}))
	return nil
}

// returnServiceReportSave adds the change reported from a service's form.
func (s *Server) returnServiceReportSave(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.editableReturn(r)
	if err != nil {
		return err
	}
	si, err := s.reportedService(r, ret)
	if err != nil {
		return err
	}
	f := parseLineForm(readForm(r))
	f.line.Practice = si.PracticeCode
	err = s.amendLine(r, ret, f, 0)
	if form, status, ok := f.refusal(err, false); ok {
		now, err := s.loadReturn(r)
		if err != nil {
			return err
		}
		return s.renderServiceReport(w, r, now, status, form)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), f.line.Kind.Name()+" of "+si.Ref()+" added to the return.")
	return redirect(w, r, returnHref(ret))
}

func dayOrEmpty(t *time.Time) string {
	if t == nil {
		return ""
	}
	return dates.Long(*t)
}
