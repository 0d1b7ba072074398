-- Tokens are issued to the client that proved itself, and a user's token only against that
-- user's authorization code: the database checks it, so that a statement run as the app role
-- (an injection, say) cannot mint a token for another client or another user.
--
-- The token endpoint binds the caller once the client's secret (or, for the users' app, its
-- client id and PKCE verifier) checked out (gateway.oauth.Server.authenticate_client); the row
-- it stores names that client. A user's token names the code it was exchanged for, which must
-- be that user's, that client's, unexpired, and not used before this transaction.

CREATE FUNCTION gateway_private.require_token_for_the_verified_client() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        -- the owner may do anything to its tables anyway; the check is for the app role
        IF current_user <> 'gateway_app' OR public.gateway_verified_role() = 'system' THEN
            RETURN NEW;
        END IF;
        IF NEW.client_id IS DISTINCT FROM public.gateway_verified_client_id() THEN
            RAISE EXCEPTION 'a token is issued only to the verified client it names'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.user_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM public.authorization_codes c
            WHERE c.id = NEW.authorization_code_id
              AND c.user_id = NEW.user_id
              AND c.client_id = NEW.client_id
              AND c.expires_at > now()
              AND (c.used_at IS NULL OR c.used_at = now())
        ) THEN
            RAISE EXCEPTION 'a user''s token is issued only against that user''s live code'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END
    $$;
REVOKE ALL ON FUNCTION gateway_private.require_token_for_the_verified_client() FROM PUBLIC;

CREATE TRIGGER oauth_tokens_verified_insert BEFORE INSERT ON oauth_tokens
    FOR EACH ROW EXECUTE FUNCTION gateway_private.require_token_for_the_verified_client();
