package server

import (
	"net/http"

	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// Checking the answers and submitting a return, or a nil return.

// returnCheck is "check your answers" before submitting.
func (s *Server) returnCheck(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	return s.renderCheck(w, r, ret, http.StatusOK, views.Form{})
}

func (s *Server) renderCheck(w http.ResponseWriter, r *http.Request, ret tracker.Return, status int, f views.Form) error {
	v, err := s.returnView(r, ret)
	if err != nil {
		return err
	}
	// Only an open return is checked against the ledger: an accepted one
	// has changed the ledger itself, and a submitted one is the
	// reviewer's to weigh.
	if ret.Editable {
		if v.Problems, err = tracker.Problems(r.Context(), s.pool, ret); err != nil {
			return err
		}
	}
	s.render(w, r, status, views.ReturnCheck(views.ReturnCheckPage{
		Page:   s.returnPage(r, ret, "Check your answers", views.Link{Label: "Return for " + ret.Period.Name(), Href: returnHref(ret)}),
		Return: v, Form: f,
	}))
	return nil
}

// returnSubmit sends the return with its changes.
func (s *Server) returnSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.submitReturn(w, r, false)
}

// returnNil sends the return saying there were no changes this month.
func (s *Server) returnNil(w http.ResponseWriter, r *http.Request) error {
	return s.submitReturn(w, r, true)
}

func (s *Server) submitReturn(w http.ResponseWriter, r *http.Request, nilReturn bool) error {
	u := currentUser(r)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	err = s.tracker.Submit(r.Context(), u.Actor(), ret.CCGCode, ret.Period, version(r), nilReturn)
	// What stops a submission is shown where it was made; a return that
	// changed meanwhile is shown as it is now.
	if form, status, ok := refusal(err, readForm(r)); ok {
		now, err := s.loadReturn(r)
		if err != nil {
			return err
		}
		if !nilReturn && status == http.StatusBadRequest {
			return s.renderCheck(w, r, now, status, form)
		}
		return s.renderReturn(w, r, now, status, form, nil)
	}
	if err != nil {
		return err
	}
	msg := "Your return for " + ret.Period.Name() + " is submitted. NHS Digital will review it."
	if nilReturn {
		msg = "Your nil return for " + ret.Period.Name() + " is submitted: no changes this month."
	}
	s.flash(r.Context(), msg)
	return redirect(w, r, returnHref(ret))
}
