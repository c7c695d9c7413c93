package http

// Stream is a placeholder until the streaming writer lands.
type Stream struct{}
