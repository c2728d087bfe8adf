package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/procurement"
	"ccgtracker/web/views"
)

// The steps before the award: Prepare, Review Catalogue Solutions and
// Evaluate (DOMAIN.md §3).

func prepareFields() []string {
	out := []string{procurement.FieldProcedure, procurement.FieldCriteria}
	for n := 1; n <= procurement.MaxCriteria; n++ {
		out = append(out, procurement.FieldCriterionName(n), procurement.FieldCriterionWeight(n))
	}
	return out
}

// criterionRows are the rows of the Prepare form: those filled in and two
// spare, at least five, at most MaxCriteria.
func criterionRows(filled int) []views.CriterionRow {
	n := min(max(5, filled+2), procurement.MaxCriteria)
	rows := make([]views.CriterionRow, n)
	for i := range rows {
		rows[i] = views.CriterionRow{N: i + 1, NameField: procurement.FieldCriterionName(i + 1), WeightField: procurement.FieldCriterionWeight(i + 1)}
	}
	return rows
}

func procedureOptions() []views.Option {
	var opts []views.Option
	for _, pr := range procurement.Procedures {
		opts = append(opts, views.Option{Value: string(pr), Label: pr.Name()})
	}
	return opts
}

// procurementPrepareForm shows the Prepare step, filled in with what was saved.
func (s *Server) procurementPrepareForm(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{views.ProcurementProcedureInput: string(p.Procedure)}}
	for i, c := range p.Criteria {
		f.Values[procurement.FieldCriterionName(i+1)] = c.Name
		f.Values[procurement.FieldCriterionWeight(i+1)] = strconv.Itoa(c.Weight)
	}
	s.render(w, r, http.StatusOK, views.ProcurementPrepare(views.ProcurementPreparePage{
		Page:        s.procurementPage(r, p, "Prepare"),
		Procurement: s.procurementView(r, p),
		Form:        f,
		Procedures:  procedureOptions(),
		Rows:        criterionRows(len(p.Criteria)),
		Closed:      closedReason(p, procurement.StepPrepare),
	}))
	return nil
}

// parsePrepareForm reads the procedure and every row of criteria, and
// how many rows are filled in (the last row with anything in it).
func parsePrepareForm(f *form) (procurement.PrepareInput, int) {
	in := procurement.PrepareInput{Procedure: procurement.Procedure(f.values.Get(views.ProcurementProcedureInput))}
	filled := 0
	for n := 1; n <= procurement.MaxCriteria; n++ {
		c := procurement.CriterionInput{Row: n, Name: f.values.Get(procurement.FieldCriterionName(n)), Weight: f.values.Get(procurement.FieldCriterionWeight(n))}
		if strings.TrimSpace(c.Name+c.Weight) != "" {
			filled = n
		}
		in.Criteria = append(in.Criteria, c)
	}
	return in, filled
}

// procurementPrepare saves the procedure and criteria, completing Prepare.
func (s *Server) procurementPrepare(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	in, filled := parsePrepareForm(readForm(r))
	err = s.procurements.Prepare(r.Context(), u.Actor(), p.ID, version(r), in)
	if f, ok := formOf(err, r.PostForm, prepareFields()...); ok {
		v := s.procurementView(r, p)
		v.Version = version(r)
		s.render(w, r, http.StatusBadRequest, views.ProcurementPrepare(views.ProcurementPreparePage{
			Page:        s.procurementPage(r, p, "Prepare"),
			Procurement: v,
			Form:        f,
			Procedures:  procedureOptions(),
			Rows:        criterionRows(filled),
			Closed:      closedReason(p, procurement.StepPrepare),
		}))
		return nil
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "Prepare is completed. Next, shortlist Catalogue Solutions.")
	return redirect(w, r, procurementPath(p))
}

// procurementShortlist is Review Catalogue Solutions: the shortlist and a
// search of the catalogue (GET q).
func (s *Server) procurementShortlist(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	return s.renderShortlist(w, r, p, http.StatusOK, views.Form{}, strings.TrimSpace(r.URL.Query().Get(inputQuery)), r.URL.Query().Get("page"))
}

func (s *Server) renderShortlist(w http.ResponseWriter, r *http.Request, p procurement.Procurement, status int, f views.Form, q, page string) error {
	res, err := procurement.Candidates(r.Context(), s.pool, p, q, paging.Parse(page, pageSize))
	if err != nil {
		return err
	}
	rows := make([]views.CandidateRow, len(res.Rows))
	for i, c := range res.Rows {
		rows[i] = views.CandidateRow{ID: c.ID, Name: c.Name, Supplier: c.SupplierName, Shortlisted: c.Shortlisted, Orderable: c.Orderable()}
	}
	v := s.procurementView(r, p)
	s.render(w, r, status, views.ProcurementShortlist(views.ProcurementShortlistPage{
		Page:        s.procurementPage(r, p, "Review Catalogue Solutions"),
		Procurement: v,
		Form:        f,
		Query:       q,
		Found:       rows,
		Pager:       pager(res, procurementPath(p)+"/shortlist", url.Values{inputQuery: {q}}),
		Problem:     procurement.CheckShortlist(p),
		Closed:      closedReason(p, procurement.StepReview),
		Completed:   p.State(procurement.StepReview).Status == procurement.Completed,
	}))
	return nil
}

// shortlistChange runs one change of the shortlist (add, remove,
// complete): a refusal shows the shortlist again with the problem.
func (s *Server) shortlistChange(w http.ResponseWriter, r *http.Request, change func(procurement.Procurement, *auth.User) (string, string, error)) error {
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	q := readForm(r).text(inputQuery)
	msg, to, err := change(p, u)
	if f, ok := formOf(err, r.PostForm, procurement.FieldItem); ok {
		return s.renderShortlist(w, r, p, http.StatusBadRequest, f, q, "")
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), msg)
	if to == "" {
		to = procurementPath(p) + "/shortlist"
		if q != "" {
			to += "?q=" + url.QueryEscape(q)
		}
	}
	return redirect(w, r, to)
}

// procurementShortlistAdd puts a Catalogue Solution on the shortlist.
func (s *Server) procurementShortlistAdd(w http.ResponseWriter, r *http.Request) error {
	return s.shortlistChange(w, r, func(p procurement.Procurement, u *auth.User) (string, string, error) {
		item := readForm(r).values.Get(views.ProcurementItemInput)
		added, err := s.procurements.AddToShortlist(r.Context(), u.Actor(), p.ID, version(r), item)
		return added.Name + " is shortlisted.", "", err
	})
}

// procurementShortlistRemove takes a solution off the shortlist.
func (s *Server) procurementShortlistRemove(w http.ResponseWriter, r *http.Request) error {
	return s.shortlistChange(w, r, func(p procurement.Procurement, u *auth.User) (string, string, error) {
		item := readForm(r).values.Get(views.ProcurementItemInput)
		removed, err := s.procurements.RemoveFromShortlist(r.Context(), u.Actor(), p.ID, version(r), item)
		return removed.Name + " is off the shortlist.", "", err
	})
}

// procurementReviewComplete completes Review Catalogue Solutions.
func (s *Server) procurementReviewComplete(w http.ResponseWriter, r *http.Request) error {
	return s.shortlistChange(w, r, func(p procurement.Procurement, u *auth.User) (string, string, error) {
		err := s.procurements.CompleteReview(r.Context(), u.Actor(), p.ID, version(r))
		next := "Next, score the solutions."
		if p.Procedure == procurement.DirectAward {
			next = "Next, award the contract."
		}
		return "The shortlist is completed. " + next, procurementPath(p), err
	})
}

// scoreRows are the rows of the Evaluate form.
func scoreRows(p procurement.Procurement) ([]views.ScoreRow, []string) {
	var rows []views.ScoreRow
	var fields []string
	for _, sl := range p.Shortlist {
		row := views.ScoreRow{Solution: views.SolutionView{ItemID: sl.ItemID, Name: sl.Name, Supplier: sl.SupplierName}}
		for _, c := range p.Criteria {
			field := procurement.FieldScore(sl.ItemID, c.ID)
			row.Cells = append(row.Cells, views.ScoreCell{Field: field, Label: "Score of " + sl.Name + " for " + c.Name})
			fields = append(fields, field)
		}
		rows = append(rows, row)
	}
	return rows, fields
}

func rankRows(p procurement.Procurement) []views.RankRow {
	var out []views.RankRow
	for _, rk := range procurement.Ranking(p) {
		out = append(out, views.RankRow{Rank: rk.Rank, ItemID: rk.ItemID, Name: rk.Name, Supplier: rk.SupplierName,
			Weighted: rk.Weighted(), Scored: rk.Scored, Criteria: len(p.Criteria)})
	}
	return out
}

// procurementEvaluateForm shows the scores saved and the ranking.
func (s *Server) procurementEvaluateForm(w http.ResponseWriter, r *http.Request) error {
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{}}
	for k, v := range p.Scores {
		f.Values[procurement.FieldScore(k.ItemID, k.CriterionID)] = strconv.Itoa(v)
	}
	rows, _ := scoreRows(p)
	s.render(w, r, http.StatusOK, views.ProcurementEvaluate(views.ProcurementEvaluatePage{
		Page:        s.procurementPage(r, p, "Evaluate"),
		Procurement: s.procurementView(r, p),
		Form:        f,
		Rows:        rows,
		Ranking:     rankRows(p),
		Closed:      closedReason(p, procurement.StepEvaluate),
	}))
	return nil
}

// parseScoresForm reads the score of each shortlisted solution against
// each criterion, and whether the person asked to complete Evaluate.
func parseScoresForm(f *form, p procurement.Procurement) ([]procurement.ScoreInput, bool) {
	var in []procurement.ScoreInput
	for _, sl := range p.Shortlist {
		for _, c := range p.Criteria {
			field := procurement.FieldScore(sl.ItemID, c.ID)
			// Only the cells the form had: a missing one is not a blank.
			if _, ok := f.values[field]; ok {
				in = append(in, procurement.ScoreInput{ItemID: sl.ItemID, CriterionID: c.ID, Score: f.values.Get(field)})
			}
		}
	}
	return in, f.values.Get(views.ProcurementActionInput) == actionComplete
}

// The Evaluate form's button that completes the step, and the shortlist's
// search box.
const (
	actionComplete = views.ProcurementActionComplete
	inputQuery     = views.ProcurementQueryInput
)

// procurementEvaluate saves the scores (action save), or saves them and
// completes Evaluate (action complete).
func (s *Server) procurementEvaluate(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	p, err := s.loadProcurement(r)
	if err != nil {
		return err
	}
	rows, fields := scoreRows(p)
	in, complete := parseScoresForm(readForm(r), p)
	err = s.procurements.SaveScores(r.Context(), u.Actor(), p.ID, version(r), in, complete)
	if f, ok := formOf(err, r.PostForm, fields...); ok {
		v := s.procurementView(r, p)
		v.Version = version(r)
		s.render(w, r, http.StatusBadRequest, views.ProcurementEvaluate(views.ProcurementEvaluatePage{
			Page:        s.procurementPage(r, p, "Evaluate"),
			Procurement: v,
			Form:        f,
			Rows:        rows,
			Ranking:     rankRows(p),
			Closed:      closedReason(p, procurement.StepEvaluate),
		}))
		return nil
	}
	if err != nil {
		return err
	}
	if complete {
		s.flash(r.Context(), "Evaluate is completed. Next, award the contract.")
		return redirect(w, r, procurementPath(p))
	}
	s.flash(r.Context(), "The scores are saved.")
	return redirect(w, r, procurementPath(p)+"/evaluate")
}
