package server

import (
	"net/http"
	"strconv"

	"ccgtracker/internal/ledger"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// returnReview is the reviewer's page of a return.
func (s *Server) returnReview(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	return s.renderReview(w, r, ret, http.StatusOK, views.Form{})
}

// renderReview shows each line with its automatic checks and, as they are
// now, the services the lines name: once accepted, the result.
func (s *Server) renderReview(w http.ResponseWriter, r *http.Request, ret tracker.Return, status int, f views.Form) error {
	v, err := s.returnView(r, ret)
	if err != nil {
		return err
	}
	checks, err := tracker.ReviewChecks(r.Context(), s.pool, ret)
	if err != nil {
		return err
	}
	for i := range v.Lines {
		v.Lines[i].Checks = checks[v.Lines[i].ID]
	}
	var ids []int64
	for _, l := range ret.Lines {
		for _, id := range []*int64{l.InstanceID, l.NewInstanceID} {
			if id != nil {
				ids = append(ids, *id)
			}
		}
	}
	if len(ids) > 0 {
		found, err := ledger.ByIDs(r.Context(), s.pool, ids)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			if i, ok := found[id]; ok && !seen[id] {
				seen[id] = true
				v.Changed = append(v.Changed, ledgerRow(i))
			}
		}
	}
	s.render(w, r, status, views.ReturnReview(views.ReturnReviewPage{
		Page:   s.returnPage(r, ret, "Review the return for "+ret.Period.Name(), views.Link{Label: "Return for " + ret.Period.Name(), Href: returnHref(ret)}),
		Return: v, Form: f,
	}))
	return nil
}

// reviewRefused shows the review page again, as the return is now, with
// a refused action's form.
func (s *Server) reviewRefused(w http.ResponseWriter, r *http.Request, status int, f views.Form) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	return s.renderReview(w, r, ret, status, f)
}

// sendBackForm is what the reviewer says when returning a return: on the
// whole, and on each of its lines (by ID).
type sendBackForm struct {
	comment  string
	comments map[int64]string
}

func parseSendBackForm(f *form, ret tracker.Return) sendBackForm {
	sb := sendBackForm{comment: f.values.Get(views.ReviewCommentInput), comments: map[int64]string{}}
	for _, l := range ret.Lines {
		sb.comments[l.ID] = f.values.Get(views.LineCommentInput(l.ID))
	}
	return sb
}

// returnSendBack returns a submitted return to the CCG with the
// reviewer's comments, overall and per line.
func (s *Server) returnSendBack(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	f := readForm(r)
	sb := parseSendBackForm(f, ret)
	err = s.tracker.ReturnToCCG(r.Context(), u.Actor(), ret.CCGCode, ret.Period, version(r), sb.comment, sb.comments)
	if form, status, ok := refusal(err, f, views.ReviewCommentInput); ok {
		return s.reviewRefused(w, r, status, form)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "The return is sent back to "+ret.CCGName+" with your comments.")
	return redirect(w, r, returnHref(ret)+"/review")
}

// returnAccept accepts a submitted return: its changes dated in the month
// are applied to the service ledger in one transaction.
func (s *Server) returnAccept(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	done, err := s.tracker.Accept(r.Context(), u.Actor(), ret.CCGCode, ret.Period, version(r))
	if form, status, ok := refusal(err, readForm(r)); ok {
		return s.reviewRefused(w, r, status, form)
	}
	if err != nil {
		return err
	}
	applied, requested := len(done.Applied), len(done.Waiting)
	msg := "The return is accepted."
	if applied > 0 {
		msg += " " + strconv.Itoa(applied) + " " + plural(applied, "change") + " applied to the service ledger."
	}
	switch {
	case requested == 1:
		msg += " 1 requested change will come back on a later return for its actual date."
	case requested > 1:
		msg += " " + strconv.Itoa(requested) + " requested changes will come back on a later return for their actual dates."
	}
	s.flash(r.Context(), msg)
	return redirect(w, r, returnHref(ret)+"/review")
}
