// Package apperr is the one error type the domain packages classify failures
// with. The server turns each Code into an HTTP status in exactly one place;
// only Message is ever shown to a person.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error by what the caller can do about it.
type Code string

// The codes. An error without one is internal.
const (
	Invalid   Code = "invalid"   // the input is wrong; Message and Fields say how
	NotFound  Code = "not_found" // no such thing, or not yours to see
	Forbidden Code = "forbidden" // you may not do this
	Conflict  Code = "conflict"  // it changed under you, or already exists
	Internal  Code = "internal"
)

// Error is a classified error with a message safe to show a person.
type Error struct {
	Code    Code
	Message string
	// Fields maps a form field name to what is wrong with it, for the NHS
	// error summary and the message beside each field.
	Fields map[string]string
	Err    error // the cause, for the log only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with code and message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an Invalid error about one form field.
func Invalidf(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: Invalid, Message: msg, Fields: map[string]string{field: msg}}
}

// CodeOf returns the Code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the safe message of err, or a generic one when err is
// not classified (its text may hold internals).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "Sorry, there is a problem with the service. Try again later."
}

// Is reports whether err is classified as code.
func Is(err error, code Code) bool { return CodeOf(err) == code }
