package engine

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/containers/podman/v5/pkg/errorhandling"
)

// engineMessage turns a raw error response into the bindings' error model,
// so that classification works the same for hand-made requests.
func engineMessage(code int, body []byte) error {
	em := &errorhandling.ErrorModel{ResponseCode: code}
	if json.Unmarshal(body, em) != nil || em.Message == "" {
		em.Message = strings.TrimSpace(string(body))
	}
	em.ResponseCode = code
	return em
}

// timeAfter backs off gently: 1 ms, 2 ms, ... up to 20 ms.
func timeAfter(i int) <-chan time.Time {
	d := time.Duration(i+1) * time.Millisecond
	if d > 20*time.Millisecond {
		d = 20 * time.Millisecond
	}
	return time.After(d)
}
