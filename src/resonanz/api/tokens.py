"""Signing in to the API and personal API tokens.

``POST /api/auth/token/`` exchanges user name, password (and, with two-factor sign-in on, a ``code``) for a
new personal token; ``/api/tokens/`` lists, makes and revokes the caller's own tokens. A key is returned
once, when the token is made; Resonanz stores only its hash.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.core import ratelimit, signin, tokens, twofactor
from resonanz.core.models import ApiToken
from resonanz.core.parsers import SafeJSONParser


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the schema (and Swagger's "Authorize" button) describes personal tokens."""

    target_class = "resonanz.core.tokens.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "A personal API token: `Token <key>` (or `Bearer <key>`)."}


class ApiTokenSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField(help_text="active, expired or revoked")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scope", "created_at", "expires_at", "last_used_at", "revoked_at", "state"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at", "state"]
        extra_kwargs = {"scope": {"help_text": "read: only GET, HEAD and OPTIONS; full: everything your role may do"},
                        "expires_at": {"help_text": "optional; refused after this time"}}

    def get_state(self, obj) -> str:
        return tokens.state(obj)


class NewApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="the key: shown only in this answer")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class SignInSerializer(AuthTokenSerializer):
    code = serializers.CharField(required=False, allow_blank=True, max_length=32,
                                 help_text="a code from the authenticator app or a recovery code, when two-factor "
                                           "sign-in is on")
    name = serializers.CharField(required=False, max_length=100, help_text="name of the new token")
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, required=False, default=ApiToken.Scope.FULL)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class TokenView(APIView):
    """Sign in: user name + password (+ ``code`` with two-factor sign-in) give a new personal token.

    Wrong passwords and wrong codes count towards the sign-in lockout (429), and the endpoint is rate-limited
    per address (429 with Retry-After)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser, MultiPartParser, SafeJSONParser]

    @extend_schema(request=SignInSerializer, responses={
        200: NewApiTokenSerializer, 400: OpenApiResponse(description="wrong credentials or code"),
        403: OpenApiResponse(description="two-factor sign-in must be set up first"),
        429: OpenApiResponse(description="too many attempts; see Retry-After")})
    def post(self, request):
        django_request = request._request  # django-axes marks a lockout on the request its middleware sees
        try:
            ratelimit.check(django_request, "api_token")
        except ratelimit.RateLimited as exc:
            return ratelimit.refusal(django_request, exc, as_json=True)
        body = SignInSerializer(data=request.data, context={"request": django_request})
        body.is_valid(raise_exception=True)
        user = body.validated_data["user"]
        username = body.validated_data.get("username", "")
        if twofactor.enabled(user):
            code = body.validated_data.get("code", "")
            if not code:
                return Response({"code": ["Two-factor sign-in is on for this account: send a code from the "
                                          "authenticator app (or a recovery code) as “code”."]}, status=400)
            if twofactor.locked(django_request, username):
                return signin.lockout_response(django_request)
            if not twofactor.verify(user, code):
                twofactor.code_failed(django_request, username)
                if twofactor.locked(django_request, username):
                    return signin.lockout_response(django_request)
                return Response({"code": ["That code is not right."]}, status=400)
        elif twofactor.required_for(user):
            return Response({"detail": "Your role must use two-factor sign-in: set it up on your profile page "
                                       "(/inbox/profile/two-factor/) first."}, status=403)
        token, key = tokens.create_token(user, name=body.validated_data.get("name") or "API sign-in",
                                         scope=body.validated_data.get("scope") or ApiToken.Scope.FULL,
                                         expires_at=body.validated_data.get("expires_at"))
        data = NewApiTokenSerializer(token).data
        data["token"] = key
        return Response(data)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your personal API tokens. Making one returns its key once; DELETE revokes it (the row stays, marked
    revoked, so the audit log can name it)."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user).order_by("-id")

    @extend_schema(request=ApiTokenSerializer, responses={201: NewApiTokenSerializer})
    def create(self, request, *args, **kwargs):
        body = ApiTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, key = tokens.create_token(request.user, actor=request.user, **body.validated_data)
        data = NewApiTokenSerializer(token).data
        data["token"] = key
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        tokens.revoke_token(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

