// Errors in OpenAI's response shape: { error: { message, type, param, code } } with the matching HTTP status.

/** An error the server reports to the client in OpenAI's shape. */
export class ApiError extends Error {
  constructor(
    /** HTTP status. */
    readonly status: number,
    message: string,
    /** OpenAI error type: invalid_request_error, not_found_error, rate_limit_error, server_error... */
    readonly type: string,
    /** Offending request field, if any. */
    readonly param: string | null = null,
    /** Short machine code. */
    readonly code: string | null = null,
  ) {
    super(message);
  }

  /** The JSON body OpenAI clients parse. */
  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400 invalid_request_error naming the field. */
export function badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}
