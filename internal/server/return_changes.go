package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/web/views"
)

// Adding a change to a return from its page, and taking one off.

// returnAddLine adds a change line from the general form, or a requested
// change's actual date.
func (s *Server) returnAddLine(w http.ResponseWriter, r *http.Request) error {
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	f := readForm(r)
	if f.text(views.CarriedFromInput) != "" {
		lf, id, err := s.pendingConfirmation(r, ret, f)
		if err == nil {
			err = s.amendLine(r, ret, lf, 0)
		}
		if form, ok := confirmationShown(f, err, id); ok {
			return s.returnShownAgain(w, r, http.StatusBadRequest, form)
		}
		if form, status, ok := lf.refusal(err, false); ok {
			return s.returnShownAgain(w, r, status, form)
		}
		if err != nil {
			return err
		}
		s.flash(r.Context(), "The actual date of the requested "+strings.ToLower(lf.line.Kind.Name())+" at "+lf.line.Practice+" added to the return.")
		return redirect(w, r, returnHref(ret))
	}
	lf := parseLineForm(f)
	err = s.amendLine(r, ret, lf, 0)
	if form, status, ok := lf.refusal(err, false); ok {
		return s.returnShownAgain(w, r, status, form)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), lf.line.Kind.Name()+" at "+lf.line.Practice+" added to the return.")
	return redirect(w, r, returnHref(ret))
}

// returnDeleteLine takes a change line off the return.
func (s *Server) returnDeleteLine(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	ret, err := s.loadReturn(r)
	if err != nil {
		return err
	}
	id, perr := strconv.ParseInt(chi.URLParam(r, "lineID"), 10, 64)
	if perr != nil {
		return errNotFound
	}
	err = s.tracker.DeleteLine(r.Context(), u.Actor(), ret.CCGCode, ret.Period, version(r), id)
	if form, status, ok := removalRefused(err); ok {
		now, err := s.loadReturn(r)
		if err != nil {
			return err
		}
		if _, _, err := loadLine(r, now); err != nil {
			return s.renderReturn(w, r, now, status, form, nil)
		}
		return s.renderLineRemove(w, r, now, status, form)
	}
	if err != nil {
		return err
	}
	s.flash(r.Context(), "The change is removed from the return.")
	return redirect(w, r, returnHref(ret))
}

// removalRefused is why a line could not be taken off, at the top of the
// page, and the status: what removing it would break (the domain's word
// on a field), or why the return refused it (409 when it changed
// meanwhile). ok is false for any other error.
func removalRefused(err error) (views.Form, int, bool) {
	var e *apperr.Error
	if !errors.As(err, &e) || (e.Code != apperr.Invalid && e.Code != apperr.Conflict) || apperr.Is(err, apperr.NotFound) {
		return views.Form{}, 0, false
	}
	msg := e.Message
	for _, m := range e.Fields {
		msg = m // what removing it would break
	}
	return views.Form{Errors: []views.FieldError{{Field: views.ReturnStatusID, Message: msg}}}, refusedStatus(err), true
}
