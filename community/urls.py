from django.urls import path

from community.api import accounts, notifications, review, spaces, threads

urlpatterns = [
    path("users", accounts.UserCreateApi.as_view(), name="user-create"),
    path("auth/token", accounts.TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/logout", accounts.TokenRevokeApi.as_view(), name="token-revoke"),
    path("auth/logout-all", accounts.TokensRevokeAllApi.as_view(), name="tokens-revoke-all"),
    path("me/password", accounts.PasswordChangeApi.as_view(), name="password-change"),
    path("me", accounts.MeApi.as_view(), name="me"),
    path("me/notifications", notifications.NotificationListApi.as_view(), name="notifications"),
    path(
        "me/notifications/read",
        notifications.NotificationReadApi.as_view(),
        name="notifications-read",
    ),
    path(
        "me/notifications/settings",
        notifications.NotificationSettingsApi.as_view(),
        name="notification-settings",
    ),
    path("spaces/<slug:slug>/threads", threads.ThreadListApi.as_view(), name="thread-list"),
    path("threads/<int:thread_id>", threads.ThreadDetailApi.as_view(), name="thread-detail"),
    path("threads/<int:thread_id>/posts", threads.PostCreateApi.as_view(), name="thread-posts"),
    path(
        "threads/<int:thread_id>/resolve",
        threads.ThreadResolveApi.as_view(),
        name="thread-resolve",
    ),
    path(
        "threads/<int:thread_id>/resolve/preview",
        threads.ThreadResolvePreviewApi.as_view(),
        name="thread-resolve-preview",
    ),
    path("threads/<int:thread_id>/appeal", threads.ThreadAppealApi.as_view(), name="thread-appeal"),
    path(
        "spaces/<slug:slug>/contributors",
        spaces.ContributorListApi.as_view(),
        name="contributors",
    ),
    path("spaces/<slug:slug>/audit", spaces.AuditListApi.as_view(), name="audit"),
    path("spaces/<slug:slug>/review", review.ReviewQueueApi.as_view(), name="review-queue"),
    path(
        "spaces/<slug:slug>/review/decide", review.ReviewDecideApi.as_view(), name="review-decide"
    ),
]
