package server

import (
	"net/http"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/billing"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// Closing a month: the confirmation page and the close itself.

// reconciliationCloseForm asks finance to confirm closing the month, or
// says why it cannot be closed.
func (s *Server) reconciliationCloseForm(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	return s.renderClose(w, r, p, http.StatusOK, "")
}

func (s *Server) renderClose(w http.ResponseWriter, r *http.Request, p tracker.Period, status int, refusal string) error {
	ctx := r.Context()
	v := views.ReconciliationClosePage{Period: p.String(), Name: p.Name(), MonthHref: "/reconciliation/" + p.String()}
	if refusal == "" {
		st, err := billing.ReadStatus(ctx, s.pool)
		if err != nil {
			return err
		}
		refusal = st.State(p.First(), dates.Today(s.now())).Refusal
	} else {
		v.Form = views.Form{Errors: []views.FieldError{{Field: views.CloseRefusalID, Message: refusal}}}
	}
	v.Refusal = refusal
	m, err := s.billing.Month(ctx, p.First())
	if err != nil {
		return err
	}
	v.Lines = views.Number(m.Count) + " " + pluralLines(m.Count)
	v.Total = m.All.Total().String()
	v.Page = s.page(r, "Close "+p.Name(), views.Link{Label: "Reconciliation", Href: "/reconciliation"}, views.Link{Label: p.Name(), Href: v.MonthHref})
	s.render(w, r, status, views.ReconciliationClose(v))
	return nil
}

func pluralLines(n int) string {
	if n == 1 {
		return "line"
	}
	return "lines"
}

// reconciliationClose closes the month (billing's Close records it in the
// audit log); a refusal is shown on the confirmation page in words.
func (s *Server) reconciliationClose(w http.ResponseWriter, r *http.Request) error {
	p, err := reconPeriod(r)
	if err != nil {
		return err
	}
	u := currentUser(r)
	n, err := s.billing.Close(r.Context(), u.Actor(), p.First())
	if code := apperr.CodeOf(err); err != nil && (code == apperr.Invalid || code == apperr.Conflict) {
		return s.renderClose(w, r, p, refusedStatus(err), apperr.MessageOf(err))
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), p.Name()+" is closed: its "+views.Number(n)+" "+pluralLines(n)+" are frozen.")
	return redirect(w, r, "/reconciliation/"+p.String())
}
