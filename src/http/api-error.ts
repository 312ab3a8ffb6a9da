/**
 * An error answer of the API as its clients see it (the web console and the CLI client): the
 * status, the stable code, the message and the details. No Node or DOM imports, so both can use it.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}
