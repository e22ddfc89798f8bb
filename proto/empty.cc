// No schema yet; proto/*.proto will replace this.
