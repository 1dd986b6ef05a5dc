/**
 * `authenticated_userid`, the user the provider's backend vouches for (at `/oauth2/authorize` and
 * in the legacy password grant). It is sent upstream as `X-Authenticated-Userid` on every request
 * of that user, so it must be a header value as it is: a value that is not (`山田`, an emoji,
 * U+2028, CR/LF, NUL) is refused when the grant is made, not discovered on each later request.
 */
import { InvalidRequestError } from '../errors.js';
import { requireParam } from './oauth-request.js';

export const MAX_USER_ID_LENGTH = 255;
/** The characters and length of a user id: visible ASCII (0x21–0x7E), no spaces, at most 255. */
const USER_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_USER_ID_LENGTH}}$`);

/** The `authenticated_userid` parameter; 400 `invalid_request` naming it when missing or not a valid user id. */
export function requireUserId(params: Map<string, string>): string {
  const userId = requireParam(params, 'authenticated_userid');
  if (!USER_ID.test(userId)) {
    throw new InvalidRequestError(
      `The parameter "authenticated_userid" must be 1 to ${MAX_USER_ID_LENGTH} visible ASCII characters (0x21-0x7E: no spaces, control or non-ASCII characters); encode other identifiers first, for example as percent-encoded UTF-8`,
    );
  }
  return userId;
}
