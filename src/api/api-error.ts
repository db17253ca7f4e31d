/** The one error shape every API route answers with: a stable code and a sentence. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

export function apiError(code: string, message: string): ApiErrorBody {
  return { error: { code, message } };
}
