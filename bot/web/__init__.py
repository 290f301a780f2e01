"""The web channel (issue 24): a chat the ENT portal embeds with one ``<script>`` tag, its
no-JavaScript version, and the engine interface the procedures bind to (step 2)."""
